import { contentTypeFor, decodeDataUri, extensionFor, findOutputFiles } from '../../lambdas/core/outputs';

/** Beside outputs.test.ts: which strings are files, and the type and extension a stored copy gets. */
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

describe('stored copy extension', () => {
  it.each([
    ['image/png', 'png'],
    ['image/jpeg', 'jpg'],
    ['image/webp', 'webp'],
    ['image/gif', 'gif'],
    ['image/svg+xml', 'svg'],
    ['video/mp4', 'mp4'],
    ['video/webm', 'webm'],
    ['audio/mpeg', 'mp3'],
    ['audio/wav', 'wav'],
    ['audio/x-wav', 'wav'],
    ['audio/ogg', 'ogg'],
    ['audio/flac', 'flac'],
    ['text/plain', 'txt'],
    ['application/json', 'json'],
    ['application/zip', 'zip'],
    ['model/gltf-binary', 'glb'],
  ])('of a file served as %s without an extension in its name is %s', (type, extension) => {
    expect(extensionFor('https://replicate.delivery/x/out', type)).toBe(extension);
  });

  it('reads the type however the server wrote it (case, spaces, parameters)', () => {
    expect(extensionFor('https://replicate.delivery/x/out', ' Image/WEBP ; q=1')).toBe('webp');
  });

  it('of a data URI comes from its type, never from its payload', () => {
    expect(extensionFor('data:text/plain,notes.exe', 'text/plain')).toBe('txt');
  });
});

describe('stored copy content type', () => {
  it.each(['image/webp', 'application/vnd.api+json', 'video/mp2t', 'model/gltf-binary'])('keeps a plausible type the source sent (%s), even if the name says otherwise', (type) => {
    expect(contentTypeFor(type, 'png')).toBe(type);
  });

  it('normalises the source type: lower case, no parameters, no spaces', () => {
    expect(contentTypeFor(' Image/PNG ; charset=binary', 'bin')).toBe('image/png');
  });

  it.each(['<script>image/png', 'image/png<script>', 'image/png x', 'image/', '/png', 'image/png/x', ''])('replaces an implausible source type (%j) by the extension’s', (type) => {
    expect(contentTypeFor(type, 'webp')).toBe('image/webp');
  });

  it.each([
    ['jpg', 'image/jpeg'],
    ['gif', 'image/gif'],
    ['svg', 'image/svg+xml'],
    ['webm', 'video/webm'],
    ['mp3', 'audio/mpeg'],
    ['ogg', 'audio/ogg'],
    ['flac', 'audio/flac'],
    ['txt', 'text/plain'],
    ['json', 'application/json'],
    ['zip', 'application/zip'],
    ['glb', 'model/gltf-binary'],
  ])('of a file with no usable source type, named .%s, is %s', (extension, type) => {
    expect(contentTypeFor(undefined, extension)).toBe(type);
  });
});

describe('data URI decoding', () => {
  it('decodes base64 only when the ;base64 parameter says so (RFC 2397)', () => {
    expect(decodeDataUri('data:text/plain;BASE64,aGk=')).toEqual({ contentType: 'text/plain', bytes: Buffer.from('hi') });
    expect(decodeDataUri('data:text/plain;base64url,aGk=')).toEqual({ contentType: 'text/plain', bytes: Buffer.from('aGk=') });
  });

  it('keeps the media type without its parameters, and defaults to text/plain', () => {
    expect(decodeDataUri('data:image/png;name=a.png;base64,AAEC')).toEqual({ contentType: 'image/png', bytes: Buffer.from([0, 1, 2]) });
    expect(decodeDataUri('data:;base64,aGk=')).toEqual({ contentType: 'text/plain', bytes: Buffer.from('hi') });
    expect(decodeDataUri('data:text/plain;charset=utf-8,caf%C3%A9')).toEqual({ contentType: 'text/plain', bytes: Buffer.from('café') });
  });
});
