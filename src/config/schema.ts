import { z } from 'zod';
import { isSingleAddress } from '../notify/address.js';

export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;
export const DEFAULT_IMAGE_DIR = '/var/lib/libvirt/images';

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

export const hostSchema = z.strictObject({
  name: z
    .string()
    .regex(
      HOST_NAME_PATTERN,
      'must start with a letter or digit and use only letters, digits, ".", "_" and "-"',
    ),
  /** An ssh destination, resolved with `ssh -G`. */
  address: z
    .string()
    .min(1, 'must not be empty')
    .refine(
      (value) => !value.startsWith('-') && !/\s/.test(value),
      'must be an ssh destination, not an option',
    ),
  labels: z.record(z.string().regex(LABEL_KEY_PATTERN, 'is not a valid label key'), z.string()).default({}),
  imageDir: absolutePath.default(DEFAULT_IMAGE_DIR),
});

/** "72h", "90m", "7d": a positive whole number of minutes, hours or days. */
export const DURATION_PATTERN = /^[1-9][0-9]{0,5}[smhd]$/;
const duration = z.string().regex(DURATION_PATTERN, 'must be a duration such as 90m, 24h or 7d');
const timeZone = z
  .string()
  .refine((zone) => isKnownTimeZone(zone), 'is not a time zone this runtime knows (e.g. Europe/Paris)');
const contact = {
  address: z.string().refine(isSingleAddress, 'must be one plain mail address, such as alice@example.com'),
  name: z.string().optional(),
};
const channelName = z.string().regex(HOST_NAME_PATTERN, 'must use only letters, digits, ".", "_" and "-"');

/**
 * Who gets the notices and how. No defaults are filled in here (src/notify applies them), so a section read back
 * is exactly what the operator wrote.
 */
export const notifySchema = z.strictObject({
  /** Told when a VM has no owner of its own; named in every notice as the contact for questions. */
  operator: z.strictObject({ ...contact, timeZone: timeZone.optional() }).optional(),
  /** How far ahead a deadline (or a reschedule) may be set; 30 days by default. */
  maxDeadlineDays: z.number().int().min(1).max(365).optional(),
  /** Reminders before the deadline; 72h, 24h, 1h by default. */
  reminders: z.array(duration).optional(),
  showHostNames: z.boolean().optional(),
  /** How reconcile retries failed deliveries; 8 tries from 1 min, doubling up to 6 h, by default. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(100).optional(),
      baseDelayMs: z.number().int().positive().optional(),
      maxDelayMs: z.number().int().positive().optional(),
    })
    .optional(),
  smtp: z
    .strictObject({
      name: channelName.optional(),
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535).optional(),
      security: z.enum(['tls', 'starttls', 'opportunistic', 'none']).optional(),
      from: z.string().min(1).optional(),
      auth: z.strictObject({ user: z.string(), pass: z.string() }).optional(),
      timeoutMs: z.number().int().positive().optional(),
    })
    .optional(),
  webhooks: z
    .array(
      z.strictObject({
        name: channelName,
        url: z.url({ protocol: /^https?$/ }),
        secret: z.string().min(16, 'must be at least 16 characters'),
        headers: z.record(z.string(), z.string()).optional(),
        timeoutMs: z.number().int().positive().optional(),
      }),
    )
    .optional(),
  commands: z
    .array(
      z.strictObject({
        name: channelName,
        argv: z.array(z.string()).min(1),
        timeoutMs: z.number().int().positive().optional(),
      }),
    )
    .optional(),
});

/** Owners by VM name or glob (`*`, `?`); an exact name wins over a glob, then the first matching glob. */
export const ownersSchema = z.array(
  z.strictObject({
    vm: z.string().min(1),
    ...contact,
    timeZone: timeZone.optional(),
    /** Channel names to use for this owner; every configured channel by default. */
    channels: z.array(channelName).optional(),
  }),
);

/** The signed self-service links served by `rehome serve`. */
export const linksSchema = z.strictObject({
  /** What owners open, e.g. https://ops.example.net/rehome/ (a path prefix behind a reverse proxy is fine). */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** The HMAC key; by default a random one kept in <configDir>/link-secret (0600). */
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
});

/** The `migration:` section: the engine's timings and paths. Every key has a default. */
export const migrationSchema = z.strictObject({
  /** A pause that lands later than this after the reboot event is undone: the guest boots in place. */
  pauseBoundMs: z.number().int().positive().default(1000),
  /** How long a graceful (ACPI) reboot may take before `--force` or a deadline pauses the guest as it stands. */
  gracefulRebootTimeoutMs: z.number().int().positive().default(120_000),
  /** How long the converge step waits for the last dirty blocks while the guest is paused. */
  convergeTimeoutMs: z.number().int().positive().default(300_000),
  /** The initial copy fails when its progress stands still this long (a target gone, an export that hangs). */
  mirrorStallTimeoutMs: z.number().int().positive().default(300_000),
  /** During the initial copy, the target is asked this often whether its exports live, and must answer as fast. */
  targetCheckMs: z.number().int().positive().default(10_000),
  /**
   * A copy that has been over every block once and is still not ready this long after is said to be outpaced by the
   * guest's writes (once, in the log and the progress): QEMU calls a copy ready only when it finds nothing dirty.
   */
  catchUpNoteMs: z.number().int().positive().default(60_000),
  /** Source disks are kept this long after a move, then reconcile removes them. */
  retentionHours: z.number().nonnegative().default(168),
  /** Pid files of exports on the target. */
  runDir: absolutePath.default('/run/rehome'),
});

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Capacity policy of a host: fleet-wide in `placement:`, per host in `placement.hosts.NAME`. */
const capacityPolicy = {
  reservedMemoryMiB: z.number().int().min(0).optional(),
  memoryOvercommit: z.number().positive().optional(),
  cpuOvercommit: z.number().positive().optional(),
  diskHeadroomBytes: z.number().int().min(0).optional(),
  diskHeadroomRatio: z.number().min(0).max(1).optional(),
};
export const hostPolicySchema = z.strictObject(capacityPolicy);

/**
 * The whole file. Every section is strict: an unknown key (a typo such as `notfy:` or `placement.spred`) is refused
 * with its FILE:LINE:COL when the file loads. A module that reads a new key adds it here, in its section.
 */
export const configSchema = z
  .strictObject({
    hosts: z.preprocess((value) => value ?? [], z.array(hostSchema)),
    tls: z
      .strictObject({
        /** On every host: ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem, client-key.pem. */
        certDir: absolutePath.optional(),
        /** The fleet CA certificate on this machine; `rehome doctor` checks every host's certificates against it. */
        caFile: absolutePath.optional(),
      })
      .optional(),
    /** Where the state lives: a PostgreSQL URL shared by several machines; without it, SQLite in the data dir. */
    store: z
      .strictObject({
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\/\S*$/i, 'must be a postgres:// or postgresql:// URL')
          .optional(),
      })
      .optional(),
    ssh: z
      .strictObject({
        acceptUnknownHostKeys: z.boolean().default(false),
        /** Passed to `ssh -F`; by default OpenSSH's own lookup (~/.ssh/config, /etc/ssh/ssh_config). */
        configFile: absolutePath.optional(),
      })
      .default({ acceptUnknownHostKeys: false }),
    storage: z
      .strictObject({
        /** Disk paths under these prefixes are on shared storage: re-attached as they are, never copied. */
        sharedPrefixes: z.array(absolutePath).default([]),
        /** libvirt storage pools on shared storage: their volumes are re-attached, never copied. */
        sharedPools: z.array(z.string().min(1)).default([]),
        /** Local block devices (LVs): into a new volume of `blockPool` on the target, or into a raw file. */
        blockDisksInto: z.enum(['volume', 'file']).default('volume'),
        /** The storage pool (logical or dir) on every target that receives copies of local block devices. */
        blockPool: z.string().min(1).optional(),
        /** cdrom/floppy media on local storage: copied once to the target, or ejected there. */
        removableMedia: z.enum(['copy', 'eject']).default('copy'),
      })
      .optional(),
    /**
     * Capacity policy, used when inventory facts are handed to placement. Defaults: see DEFAULT_PLACEMENT_POLICY in
     * src/inventory/placement-facts.ts.
     */
    placement: z
      .strictObject({
        ...capacityPolicy,
        /** Per-host overrides of the policy above, by host name (src/inventory/host-policies.ts). */
        hosts: z.record(z.string(), hostPolicySchema).optional(),
        /** Link speed for plan ETAs, in MiB/s (src/drain/settings.ts). */
        linkSpeedMiBps: z.number().positive().optional(),
      })
      .optional(),
    notify: notifySchema.optional(),
    owners: ownersSchema.optional(),
    links: linksSchema.optional(),
    migration: z.preprocess((value) => value ?? {}, migrationSchema),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.hosts.forEach((host, index) => {
      if (seen.has(host.name)) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate host name ${host.name}`,
          path: ['hosts', index, 'name'],
        });
      }
      seen.add(host.name);
    });
    const channels = new Set([
      ...(config.notify?.smtp ? [config.notify.smtp.name ?? 'mail'] : []),
      ...(config.notify?.webhooks ?? []).map((hook) => hook.name),
      ...(config.notify?.commands ?? []).map((command) => command.name),
    ]);
    config.owners?.forEach((owner, index) => {
      owner.channels?.forEach((name, at) => {
        if (!channels.has(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `no notify channel is named ${name}`,
            path: ['owners', index, 'channels', at],
          });
        }
      });
    });
  });

export type HostConfig = z.infer<typeof hostSchema>;
export type HostConfigInput = z.input<typeof hostSchema>;
export type RehomeConfig = z.infer<typeof configSchema>;
export type NotifyConfig = z.infer<typeof notifySchema>;
export type OwnersConfig = z.infer<typeof ownersSchema>;
export type OwnerMapping = OwnersConfig[number];
export type LinksConfig = z.infer<typeof linksSchema>;
export type MigrationConfig = z.infer<typeof migrationSchema>;
