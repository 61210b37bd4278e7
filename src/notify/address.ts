/**
 * One mail address, and only one: `local@domain`, without a display name, comment, group or list. An owner address
 * comes from domain metadata that anyone with libvirt access can write: `alice@x, mallory@y` must not send the VM's
 * signed links to both.
 */
const SINGLE_ADDRESS = /^[^\s@,;:<>()"[\]\\]+@[^\s@,;:<>()"[\]\\]+$/;

export function isSingleAddress(value: string): boolean {
  return SINGLE_ADDRESS.test(value) && !value.startsWith('.') && !value.endsWith('.');
}

export const SINGLE_ADDRESS_HINT =
  'An owner address is one plain address such as alice@example.com (no list, no name).';
