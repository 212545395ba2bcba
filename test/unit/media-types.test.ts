import { contentTypeFor, extensionFor, servedInline, storedFormOf, urlExtension } from '../../lambdas/core/media-types';
import { decodeDataUri } from '../../lambdas/core/outputs';

describe('media types of stored outputs', () => {
  it.each([
    ['https://replicate.delivery/x/out.PNG', undefined, 'image/png', 'png'],
    ['https://replicate.delivery/x/out', 'image/webp', 'image/webp', 'webp'],
    ['https://replicate.delivery/x/out', 'audio/wav; charset=binary', 'audio/wav', 'wav'],
    ['https://replicate.delivery/x/out.jpeg', 'image/jpeg', 'image/jpeg', 'jpeg'],
    ['https://replicate.delivery/x/out.wav', 'audio/x-wav', 'audio/x-wav', 'wav'],
    ['https://replicate.delivery/x/out.mp4', 'application/octet-stream', 'video/mp4', 'mp4'],
    ['https://replicate.delivery/x/archive.tar.gz', undefined, 'application/gzip', 'gz'],
    ['https://replicate.delivery/x/mesh.glb', 'model/gltf-binary', 'model/gltf-binary', 'glb'],
    ['https://replicate.delivery/x/out', undefined, 'application/octet-stream', 'bin'],
    ['https://replicate.delivery/x/weights.safetensors', undefined, 'application/octet-stream', 'bin'],
    ['data:image/png;base64,AAAA', 'image/png', 'image/png', 'png'],
  ])('stores %s (declared %s) as %s, .%s', (url, declared, type, extension) => {
    expect(storedFormOf(url, declared)).toEqual({ contentType: type, extension });
  });

  // Stored XSS: a page or a script-running image must never be stored (and served) as what it claims.
  it.each([
    ['a data: URI page', 'data:text/html,<script>alert(1)</script>', undefined],
    ['a base64 data: URI page', 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', undefined],
    ['a data: URI SVG', 'data:image/svg+xml,<svg onload=alert(1)>', undefined],
    ['a URL answering text/html', 'https://replicate.delivery/x/out.png', 'text/html; charset=utf-8'],
    ['a URL answering SVG', 'https://replicate.delivery/x/out.svg', 'image/svg+xml'],
    ['a URL answering XHTML', 'https://replicate.delivery/x/out', 'application/xhtml+xml'],
    ['a URL answering XML', 'https://replicate.delivery/x/out.xml', 'text/xml'],
    ['a URL answering JavaScript', 'https://replicate.delivery/x/out.js', 'text/javascript'],
    ['a URL answering PDF', 'https://replicate.delivery/x/out.pdf', 'application/pdf'],
    ['an .html URL with no type', 'https://replicate.delivery/x/page.html', undefined],
    ['an .svg URL typed octet-stream', 'https://replicate.delivery/x/pic.svg', 'application/octet-stream'],
    ['a garbage type', 'https://replicate.delivery/x/out.png', '<script>'],
  ])('stores %s as opaque bytes under .bin', (_name, url, declared) => {
    const type = url.startsWith('data:') ? decodeDataUri(url).contentType : declared;
    expect(storedFormOf(url, type)).toEqual({ contentType: 'application/octet-stream', extension: 'bin' });
  });

  it('takes the type from the extension only when the declared one says nothing', () => {
    expect(contentTypeFor(undefined, 'png')).toBe('image/png');
    expect(contentTypeFor('binary/octet-stream', 'png')).toBe('image/png');
    expect(contentTypeFor('text/html', 'png')).toBe('application/octet-stream');
    expect(contentTypeFor(undefined, 'html')).toBe('application/octet-stream');
  });

  it("keeps the key's extension among the stored type's own", () => {
    expect(extensionFor('html', 'image/png')).toBe('png');
    expect(extensionFor('png', 'application/octet-stream')).toBe('bin');
    expect(extensionFor(undefined, 'text/plain')).toBe('txt');
    expect(urlExtension('https://replicate.delivery/x/out.PNG?sig=1')).toBe('png');
    expect(urlExtension('data:image/png;base64,AAAA')).toBeUndefined();
  });

  it('shows only raster images, audio and video in place; every other type is a download', () => {
    for (const type of [
      'image/png',
      'image/jpeg',
      'image/webp',
      'image/gif',
      'audio/mpeg',
      'audio/wav',
      'video/mp4',
      'video/webm',
    ]) {
      expect(servedInline(type)).toBe(true);
    }
    for (const type of [
      'text/html',
      'image/svg+xml',
      'application/octet-stream',
      'text/plain',
      'application/json',
      'application/zip',
      'model/gltf-binary',
      'application/pdf',
      '',
    ]) {
      expect(servedInline(type)).toBe(false);
    }
    expect(servedInline('Image/PNG; x=y')).toBe(true);
  });
});
