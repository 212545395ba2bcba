import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.cjs';

/**
 * zod's tree-shakable "mini" build (the classic build adds ~450 KiB to every bundle), with English messages
 * (mini ships none by default: errors would only say "Invalid input"). Schemas `import * as z` from here:
 * static `z.x` accesses keep tree-shaking working, which a re-exported namespace object would not.
 */
config(en());

export * from 'zod/mini';
