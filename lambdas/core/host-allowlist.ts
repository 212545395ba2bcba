/**
 * Which hosts output files may be downloaded from. Entries are `host`, `host:port` or `*.domain` (any
 * subdomain, not the domain itself). Only the URL's exact host (and port) is compared: no substring
 * tricks (`replicate.delivery.evil.com`), no user-info (`https://replicate.delivery@evil.com/`).
 */
export const REPLICATE_OUTPUT_HOSTS = ['replicate.delivery', '*.replicate.delivery'];

export class HostAllowlist {
  private readonly entries: string[];
  constructor(
    entries: string[],
    /** Plain http is for the local stack only; in AWS every output comes over https. */
    private readonly allowHttp = false,
  ) {
    this.entries = entries.map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  }

  allows(rawUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return false;
    }
    if (url.protocol !== 'https:' && !(this.allowHttp && url.protocol === 'http:')) return false;
    if (url.username || url.password) return false;
    const host = url.hostname.toLowerCase();
    const hostWithPort = url.port ? `${host}:${url.port}` : host;
    return this.entries.some((entry) => {
      if (entry.startsWith('*.')) return !url.port && host.endsWith(entry.slice(1)) && host.length > entry.length - 1;
      return entry === hostWithPort;
    });
  }
}
