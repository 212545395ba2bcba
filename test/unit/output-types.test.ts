import { decodeDataUri, findOutputFiles } from '../../lambdas/core/outputs';

/** Beside outputs.test.ts: which strings are files, and data URI decoding. */
describe('which output strings are files', () => {
  it.each([
    ['http://replicate.delivery/x/a.png', true], // the allowlist, not this, decides about plain http
    ['HTTPS://replicate.delivery/x/a.png', true],
    ['data:,hello', true],
    ['javascript:https://replicate.delivery/x/a.png', false], // a URL inside text is not a whole URL
    ['see https://replicate.delivery/x/a.png', false],
    ['https://replicate.delivery/x/a.png and more', false],
    ['ftp://replicate.delivery/x/a.png', false],
  ])('%s is a file: %s', (value, isFile) => {
    expect(findOutputFiles(value).length === 1).toBe(isFile);
  });
});

// The stored type and extension of a copy: test/unit/media-types.test.ts (the allowlist rules).
describe('data URI decoding', () => {
  it('decodes base64 only when the ;base64 parameter says so (RFC 2397)', () => {
    expect(decodeDataUri('data:text/plain;BASE64,aGk=')).toEqual({
      contentType: 'text/plain',
      bytes: Buffer.from('hi'),
    });
    expect(decodeDataUri('data:text/plain;base64url,aGk=')).toEqual({
      contentType: 'text/plain',
      bytes: Buffer.from('aGk='),
    });
  });

  it('keeps the media type without its parameters, and defaults to text/plain', () => {
    expect(decodeDataUri('data:image/png;name=a.png;base64,AAEC')).toEqual({
      contentType: 'image/png',
      bytes: Buffer.from([0, 1, 2]),
    });
    expect(decodeDataUri('data:;base64,aGk=')).toEqual({ contentType: 'text/plain', bytes: Buffer.from('hi') });
    expect(decodeDataUri('data:text/plain;charset=utf-8,caf%C3%A9')).toEqual({
      contentType: 'text/plain',
      bytes: Buffer.from('café'),
    });
  });
});
