import { Args } from '@oclif/core';
import { doctor } from '../src/app/doctor.js';
import { formatDoctor } from '../src/app/format/doctor.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import type { DoctorReport } from '../src/doctor/types.js';

export default class Doctor extends BaseCommand {
  static override summary =
    'Check hosts before a drain: SSH, libvirt, QEMU tools, TLS certificates, space, clock';
  static override description =
    'Per host: the host key is known; SSH connects; sshd allows stream-local forwarding (rehome reaches libvirtd ' +
    'through it); libvirt and QEMU versions; qemu-nbd and qemu-img installed; the TLS files in tls.certDir, signed ' +
    'by the fleet CA (tls.caFile, else the CA most hosts hold), naming the host, and not expiring within 30 days; ' +
    'free space in the image directory; the clock within 2 s of this machine’s. Unknown host keys are reported, ' +
    'never recorded. Exit 0 when every check passes (warnings allowed); 5 when a host key was refused, 4 when a ' +
    'host could not be reached, 12 for any other failing check.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor kvm7 kvm8',
    '<%= config.bin %> doctor --json',
  ];
  static override strict = false;
  static override args = {
    host: Args.string({ description: 'Hosts to check (names from the rehome config); default: all' }),
  };

  async run(): Promise<DoctorReport> {
    const { argv, flags } = await this.parse(Doctor);
    const report = await doctor(this.runtimePaths(flags), argv as string[]);
    if (!this.jsonEnabled()) this.log(formatDoctor(report));
    process.exitCode = doctorExitCode(report);
    return report;
  }
}

function doctorExitCode(report: DoctorReport): number {
  const failed = report.hosts.flatMap((host) => host.checks.filter((check) => check.status === 'fail'));
  if (failed.length === 0) return ExitCode.ok;
  if (failed.some((check) => check.check === 'host-key')) return ExitCode.hostKeyRejected;
  if (failed.some((check) => check.check === 'ssh')) return ExitCode.hostUnreachable;
  return ExitCode.checksFailed;
}
