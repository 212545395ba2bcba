import { outputKey } from '../../contract/bucket';
import { decodeDataUri, findOutputFiles, mapOutputFiles } from '../../lambdas/core/outputs';

const url = (n: number, ext = 'png') => `https://replicate.delivery/pbxt/abc/out-${n}.${ext}`;

describe('output files', () => {
  it.each([
    ['a single URL', url(0), [url(0)]],
    ['a list of URLs', [url(0), url(1)], [url(0), url(1)]],
    ['an object whose values hold URLs', { image: url(0), mask: url(1), seed: 3 }, [url(0), url(1)]],
    ['nested JSON', { a: { b: [1, { c: url(2) }] }, d: [url(3)] }, [url(2), url(3)]],
    ['plain text', 'a cat on a mat', []],
    ['a token list (language model)', ['Hello', ' world', '!'], []],
    ['a token list that contains a URL token', ['See ', url(0), ' for details'], []],
    ['a number', 42, []],
    ['null', null, []],
    ['a data URI', 'data:text/plain;base64,aGVsbG8=', ['data:text/plain;base64,aGVsbG8=']],
    ['a URL with whitespace (text, not a file)', 'https://example.com/a b', []],
  ])('finds the files in %s', (_name, output, expected) => {
    expect(findOutputFiles(output).map((file) => file.url)).toEqual(expected);
  });

  it('numbers files depth-first and replaces each by its copy, keeping the shape', () => {
    const output = { images: [url(0), url(1)], caption: 'hi', meta: { mask: url(2), score: 0.5 } };
    expect(findOutputFiles(output).map((file) => file.index)).toEqual([0, 1, 2]);
    expect(mapOutputFiles(output, (file) => `copy-${file.index}`)).toEqual({
      images: ['copy-0', 'copy-1'],
      caption: 'hi',
      meta: { mask: 'copy-2', score: 0.5 },
    });
  });

  it('passes token lists through untouched, however many', () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => `tok${i} `);
    expect(mapOutputFiles(tokens, () => 'x')).toBe(tokens);
  });

  it('names stored copies deterministically', () => {
    expect(outputKey('owner1', 'job_1', 3, 'png')).toBe('outputs/owner1/job_1/3.png');
  });

  it('decodes data URIs', () => {
    expect(decodeDataUri('data:text/plain;base64,aGVsbG8=')).toEqual({
      contentType: 'text/plain',
      bytes: Buffer.from('hello'),
    });
    expect(decodeDataUri('data:,a%20b')).toEqual({ contentType: 'text/plain', bytes: Buffer.from('a b') });
  });
});
