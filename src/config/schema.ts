import { z } from 'zod';

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
    .min(1)
    .refine(
      (value) => !value.startsWith('-') && !/\s/.test(value),
      'must be an ssh destination, not an option',
    ),
  labels: z.record(z.string().regex(LABEL_KEY_PATTERN, 'is not a valid label key'), z.string()).default({}),
  imageDir: absolutePath.default(DEFAULT_IMAGE_DIR),
});

/** Later sections (placement, notify, owners…) belong to their own modules and are passed through untouched. */
export const configSchema = z
  .looseObject({
    hosts: z.preprocess((value) => value ?? [], z.array(hostSchema)),
    tls: z.looseObject({ certDir: absolutePath.optional() }).optional(),
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
      })
      .optional(),
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
  });

export type HostConfig = z.infer<typeof hostSchema>;
export type HostConfigInput = z.input<typeof hostSchema>;
export type RehomeConfig = z.infer<typeof configSchema>;
