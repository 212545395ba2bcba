/**
 * Who is calling. Each local function process signs with an access key id of its own, so the key id names the
 * function (and through it, its role's policies). With its secret key known, the proxy also verifies the
 * signature (signature.ts), as AWS authenticates before it authorizes.
 */

export interface Principal {
  /** The function name, as it appears in the assumed-role ARN and the records. */
  name: string;
  /** The execution role, `arn:aws:iam::<account>:role/<name>`. */
  roleArn: string;
  /**
   * The role's identity policies (plain IAM policy documents). Treated as immutable: decisions are cached per principal
   * object.
   */
  policies: Array<{ name: string; policy: unknown }>;
  /** The secret key the principal signs with: when given, every request's SigV4 signature is verified. */
  secretAccessKey?: string;
}

/**
 * The access key id a request was signed with: from the SigV4 `Authorization` header
 * (`AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`), or for a presigned URL from the
 * `X-Amz-Credential` query parameter. A presigned request is the signer's request, as in AWS: it is authorized
 * against the signer's policies, whoever sends it. Undefined when the request is unsigned.
 */
export function accessKeyIdOf(request: {
  headers: Record<string, string | undefined>;
  query: URLSearchParams;
}): string | undefined {
  const authorization = request.headers.authorization ?? request.headers.Authorization;
  if (authorization) {
    const sigV4 = /Credential=([^/,\s]+)\//.exec(authorization);
    if (sigV4) return sigV4[1];
    const sigV2 = /^AWS ([^:\s]+):/.exec(authorization); // legacy S3 signatures
    if (sigV2) return sigV2[1];
    return undefined;
  }
  const credential = request.query.get('X-Amz-Credential'); // URLSearchParams has already decoded %2F
  if (credential) return credential.split('/')[0] || undefined;
  return request.query.get('AWSAccessKeyId') ?? undefined; // legacy presigned S3 URLs
}

/** The role session a Lambda function runs as: `arn:aws:sts::<account>:assumed-role/<role name>/<function name>`. */
export function assumedRoleArn(principal: Pick<Principal, 'name' | 'roleArn'>, fallbackAccountId?: string): string {
  const [, , , , account, resource = ''] = principal.roleArn.split(':');
  const roleName = resource.split('/').pop();
  return `arn:aws:sts::${account || fallbackAccountId}:assumed-role/${roleName}/${principal.name}`;
}

/** The account of a role ARN. */
export function accountOf(roleArn: string): string | undefined {
  return roleArn.split(':')[4] || undefined;
}
