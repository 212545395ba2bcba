/**
 * What the construct stores in the Replicate secrets it creates, until an operator sets the real values
 * (README, "Setting the secrets"); the functions read it as "not set" and refuse clearly instead of calling
 * Replicate with it.
 */
export const UNSET_SECRET = 'UNSET';
