/**
 * The contract between the sync layer (NBD export on the target, block copy on the source) and the migration engine.
 * Everything here is plain data that the engine journals in the store, so a later process can observe and undo it.
 */

/** An image on the target, exported over NBD with TLS by a qemu-nbd process that rehome started. */
export interface NbdExport {
  /** The guest disk it receives (e.g. `vda`). */
  disk: string;
  /** The target host's name in the rehome config. */
  host: string;
  /** The address qemu-nbd is bound to, as the source host will reach it. */
  address: string;
  port: number;
  exportName: string;
  /** The image on the target that receives the copy, and becomes the domain's disk there. */
  imagePath: string;
  /** The image's format on the target: qcow2, raw (sparse files, LVs), or a dir-pool volume's own. */
  format: string;
  /** Set when the image is a volume rehome created through libvirt's storage API (deleted through it, never rm). */
  volume?: { pool: string; name: string };
  /** The guest disk's virtual size: the size of the image on the target. */
  virtualSizeBytes: number;
  /** qemu-nbd's pid on the target, and its pid file (both used to observe and to close the export). */
  pid: number;
  pidFile: string;
}

/** What createExport needs; the NbdExport it returns adds the address, port and qemu-nbd's pid. */
export interface CreateExportSpec
  extends Pick<NbdExport, 'host' | 'disk' | 'imagePath' | 'virtualSizeBytes' | 'exportName' | 'volume'> {
  /** qcow2 (default) or raw, or a volume's format. */
  format?: string;
  /** Bind address on the target: the target's address that sources use. */
  bindAddress: string;
  /** Directory on the target with ca-cert.pem, server-cert.pem, server-key.pem (the fleet certificates). */
  certDir: string;
  /**
   * The distinguished name of the one client certificate the export accepts (the source host's), as QEMU reads it
   * from the peer certificate: see clientCertificateDn.
   */
  allowedClientDn: string;
  /** Where pid files go on the target. */
  runDir: string;
  /** Ports already taken by this migration's other exports. */
  avoidPorts?: readonly number[];
}

/** One local disk's mirror, as seen by libvirt on the source. */
export interface MirrorProgress {
  disk: string;
  /** Bytes copied so far and total (libvirt's block job cur/end); both 0 when the disk has no job. */
  cur: number;
  end: number;
  /** The disk has a block job. */
  present: boolean;
  /** cur == end and end > 0: nothing dirty at the moment of the reading. */
  converged: boolean;
}

export type MirrorMode = 'background' | 'write-blocking';

/** What remains of an export on the target. */
export type ExportState = 'alive' | 'gone';
