/**
 * What a stored output may claim to be. Every owner's outputs live in one bucket and are read through presigned
 * URLs on its origin, so a stored `text/html` or `image/svg+xml` file would be a page running a stranger's script
 * there (stored XSS). Only the media types below keep their type; anything else, whatever the source or a
 * `data:` URI says, is stored as `application/octet-stream` under a `.bin` key.
 *
 * `inline` types are those a browser only decodes and plays (raster images, audio, video): their presigned URLs
 * show them in place. Every other stored type, these included, is served as a download (see `servedInline`).
 */
const STORED_MEDIA_TYPES: ReadonlyArray<{ type: string; extensions: string[]; inline: boolean }> = [
  // Raster images. Not SVG: it is a document that runs script.
  { type: 'image/png', extensions: ['png'], inline: true },
  { type: 'image/jpeg', extensions: ['jpg', 'jpeg'], inline: true },
  { type: 'image/webp', extensions: ['webp'], inline: true },
  { type: 'image/gif', extensions: ['gif'], inline: true },
  { type: 'image/avif', extensions: ['avif'], inline: true },
  { type: 'image/bmp', extensions: ['bmp'], inline: true },
  { type: 'image/tiff', extensions: ['tif', 'tiff'], inline: true },
  // Audio and video.
  { type: 'audio/mpeg', extensions: ['mp3'], inline: true },
  { type: 'audio/wav', extensions: ['wav'], inline: true },
  { type: 'audio/x-wav', extensions: ['wav'], inline: true },
  { type: 'audio/ogg', extensions: ['ogg', 'oga'], inline: true },
  { type: 'audio/flac', extensions: ['flac'], inline: true },
  { type: 'audio/aac', extensions: ['aac'], inline: true },
  { type: 'audio/mp4', extensions: ['m4a'], inline: true },
  { type: 'video/mp4', extensions: ['mp4'], inline: true },
  { type: 'video/webm', extensions: ['webm'], inline: true },
  { type: 'video/quicktime', extensions: ['mov'], inline: true },
  // Text and data: harmless as files, but S3 sends no `nosniff`, so they are downloads, never rendered.
  { type: 'text/plain', extensions: ['txt'], inline: false },
  { type: 'application/json', extensions: ['json'], inline: false },
  // Archives.
  { type: 'application/zip', extensions: ['zip'], inline: false },
  { type: 'application/gzip', extensions: ['gz'], inline: false },
  { type: 'application/x-tar', extensions: ['tar'], inline: false },
  // 3D models.
  { type: 'model/gltf-binary', extensions: ['glb'], inline: false },
  { type: 'model/gltf+json', extensions: ['gltf'], inline: false },
  { type: 'model/obj', extensions: ['obj'], inline: false },
  { type: 'model/stl', extensions: ['stl'], inline: false },
  { type: 'model/ply', extensions: ['ply'], inline: false },
];

const OPAQUE_CONTENT_TYPE = 'application/octet-stream';
const OPAQUE_EXTENSION = 'bin';

const BY_TYPE = new Map(STORED_MEDIA_TYPES.map((entry) => [entry.type, entry]));
/** The first type listed for an extension wins (`wav` → `audio/wav`). */
const TYPE_BY_EXTENSION = new Map<string, string>();
for (const { type, extensions } of STORED_MEDIA_TYPES) {
  for (const extension of extensions) if (!TYPE_BY_EXTENSION.has(extension)) TYPE_BY_EXTENSION.set(extension, type);
}

/** `Image/PNG; charset=x` → `image/png`. */
const essence = (type: string | undefined): string => (type ?? '').split(';')[0].trim().toLowerCase();

/** Types that say nothing about the bytes: the URL's extension may then name the type. */
const UNSPECIFIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** The extension of a URL's file name (lower case), if it has a short alphanumeric one; never for `data:` URIs. */
export function urlExtension(url: string): string | undefined {
  if (url.startsWith('data:')) return undefined;
  const name = new URL(url).pathname.split('/').pop() ?? '';
  return /\.([a-z0-9]{1,8})$/i.exec(name)?.[1].toLowerCase();
}

/**
 * The type a copy is stored with. A declared type on the list is kept; a declared type that says nothing
 * (absent, octet-stream) is taken from the URL's extension when that is on the list; any other declared type
 * (`text/html`, `image/svg+xml`, garbage) is not guessed around: the copy is opaque bytes.
 */
export function contentTypeFor(declared: string | undefined, extension: string | undefined): string {
  const type = essence(declared);
  if (BY_TYPE.has(type)) return type;
  if (UNSPECIFIC.has(type) && extension && TYPE_BY_EXTENSION.has(extension)) return TYPE_BY_EXTENSION.get(extension)!;
  return OPAQUE_CONTENT_TYPE;
}

/**
 * The extension of the stored key: always one of the stored type's own, so a downloaded file opens as what it
 * was stored as (never `.html` or `.svg`). The URL's spelling is kept when it is one of them (`jpeg`).
 */
export function extensionFor(extension: string | undefined, contentType: string): string {
  const entry = BY_TYPE.get(contentType);
  if (!entry) return OPAQUE_EXTENSION;
  return extension && entry.extensions.includes(extension) ? extension : entry.extensions[0];
}

/** Both at once: what an output at `url`, declared as `declared`, is stored as. */
export function storedFormOf(url: string, declared: string | undefined): { contentType: string; extension: string } {
  const fromUrl = urlExtension(url);
  const contentType = contentTypeFor(declared, fromUrl);
  return { contentType, extension: extensionFor(fromUrl, contentType) };
}

/**
 * Whether a presigned URL may show the object in place. Everything else answers `Content-Disposition:
 * attachment`, which browsers save instead of render; decided from the type recorded on the job, so objects
 * stored before this list existed (a `text/html` one, say) are downloads too.
 */
export const servedInline = (contentType: string): boolean => BY_TYPE.get(essence(contentType))?.inline === true;
