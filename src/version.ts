// The version reported by the server and the CLI.
export const WHARF_VERSION = '0.1.0';
