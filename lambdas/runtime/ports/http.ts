import { HttpCallbackEndpoint } from '../../adapters/http-callback-endpoint';
import { HttpOutputSource } from '../../adapters/http-output-source';
import { allowlistFor, CALLBACK_TIMEOUTS, type RuntimeSettings } from '../settings';

/** Where outputs are downloaded from: only the allowed hosts, public addresses unless the settings say otherwise. */
export const outputSource = (settings: RuntimeSettings) =>
  new HttpOutputSource({
    allowlist: allowlistFor(settings),
    blockPrivateAddresses: !settings.network.allowPrivateAddresses,
    maxBytes: settings.maxOutputBytes,
    timeoutMs: settings.downloadTimeoutMs,
  });

/** The clients' callback URLs: public addresses only unless the settings say otherwise. */
export const callbackEndpoint = (settings: RuntimeSettings) =>
  new HttpCallbackEndpoint({ blockPrivateAddresses: !settings.network.allowPrivateAddresses, ...CALLBACK_TIMEOUTS });
