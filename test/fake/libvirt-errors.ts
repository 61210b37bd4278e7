import { LibvirtError, LibvirtErrorCode } from './src-imports.js';

/** virErrorDomain values the fake reports under. */
const FROM_QEMU = 10;
const FROM_NETWORK = 19;

/** A LibvirtError as libvirtd sends it (a `remote_error`), so the engine's own error handling runs. */
export function libvirtError(code: number, message: string, procedure?: string): LibvirtError {
  return new LibvirtError(
    {
      code,
      domain: code === LibvirtErrorCode.noNetwork ? FROM_NETWORK : FROM_QEMU,
      message,
      level: 2,
      str1: null,
      str2: null,
      str3: null,
      int1: -1,
      int2: -1,
    },
    procedure,
  );
}

export const noDomain = (what: string) =>
  libvirtError(LibvirtErrorCode.noDomain, `Domain not found: no domain with matching ${what}`);

export const notRunning = () =>
  libvirtError(LibvirtErrorCode.operationInvalid, 'Requested operation is not valid: domain is not running');

/** VIR_ERR_SYSTEM_ERROR: what a missing disk image gives at start. */
export const SYSTEM_ERROR = 38;
