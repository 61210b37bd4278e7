import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the lab's scripts live (this directory) and the repository root. */
export const labSourceDir = path.dirname(fileURLToPath(import.meta.url));
export const repoDir = path.resolve(labSourceDir, '../..');

export const OPERATOR_NS = 'rh-op';
export const HOST_NS_PREFIX = 'rh-lab-';
export const LAB_BRIDGE = 'labbr';
export const OPERATOR_ADDRESS = '10.203.0.1';
export const GUEST_FIRST_OCTET = 100;
export const GUEST_LAST_OCTET = 250;
/** Where a lab host sees its NBD TLS certificates (qemu.conf nbd_tls_x509_cert_dir). Lives under the host's own /etc/libvirt. */
export const LAB_CERT_DIR = '/etc/libvirt/pki/qemu';
export const GUEST_BOOT_DIR = '/var/lib/libvirt/boot';
export const GUEST_IMAGE_DIR = '/var/lib/libvirt/images';
export const AGENT_PORT = 7777;
export const MAX_HOSTS = 20;

export function labDir(): string {
  const fromEnv = process.env.REHOME_LAB_DIR;
  return fromEnv ? path.resolve(fromEnv) : path.join(repoDir, '.lab');
}

export interface LabPaths {
  root: string;
  cache: string;
  operatorHome: string;
  pki: string;
  switchDir: string;
  hosts: string;
  pids: string;
  state: string;
}

export function labPaths(root = labDir()): LabPaths {
  return {
    root,
    cache: path.join(root, 'cache'),
    operatorHome: path.join(root, 'operator'),
    pki: path.join(root, 'pki'),
    switchDir: path.join(root, 'switch'),
    hosts: path.join(root, 'hosts'),
    pids: path.join(root, 'pids'),
    state: path.join(root, 'state.json'),
  };
}

/** lab-a, lab-b, … */
export function hostName(index: number): string {
  return `lab-${String.fromCharCode(97 + index)}`;
}

export function hostIndex(name: string): number {
  const match = /^lab-([a-z])$/.exec(name);
  if (!match?.[1]) throw new Error(`not a lab host name: ${name} (expected lab-a, lab-b, …)`);
  return (match?.[1] ?? '').charCodeAt(0) - 97;
}

export function hostNamespace(name: string): string {
  return `rh-${name}`;
}

export function hostAddress(name: string): string {
  return `10.203.0.${11 + hostIndex(name)}`;
}

/** The switch side of a host's uplink, in the operator namespace. */
export function hostVeth(name: string): string {
  return `veth-${name}`;
}

/** The host's private tree: bind-mounted over /run, /etc/libvirt, /var/lib/libvirt, … inside the host. */
export function hostRoot(name: string, root = labDir()): string {
  return path.join(labPaths(root).hosts, name);
}
