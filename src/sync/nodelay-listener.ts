/**
 * A listening TCP socket with TCP_NODELAY, handed to a server by socket activation (LISTEN_FDS, fd 3).
 *
 * qemu-nbd (QEMU 7.2) leaves Nagle's algorithm on for its connections. Its replies are small, so each one after the
 * first waits for the client's delayed ACK (~40 ms) while the client waits for the replies. A mirror's walk over zero
 * regions is all such small requests (one write-zeroes per 4 MiB buffer): over 32 GiB it took 14-25 s over TCP, 1.2 s
 * with TCP_NODELAY (bench/README "bandwidth"). Linux gives an accepted socket the listening socket's TCP_NODELAY, and
 * qemu-nbd accepts on a socket it is given (systemd's socket activation protocol), so the listener is made here and
 * qemu-nbd exec'd on it, same pid.
 *
 * Perl, because it is on every Debian host (perl-base is essential) and its Socket and POSIX modules are core: the
 * host needs no helper of rehome's own.
 */

/**
 * The script: arguments HOST PORT COMMAND...; binds the first address HOST resolves to that accepts, or dies with the
 * system's reason ("Address already in use") and exit code 1, before COMMAND runs. dup2 leaves fd 3 open across exec,
 * except when the socket already is fd 3 (no-op): close-on-exec is cleared on it explicitly.
 */
const LISTENER_SCRIPT = [
  'use strict; use warnings;',
  'use Socket qw(getaddrinfo AI_PASSIVE SOCK_STREAM SOL_SOCKET SO_REUSEADDR IPPROTO_TCP TCP_NODELAY);',
  'use POSIX (); use Fcntl qw(F_SETFD);',
  'my ($host, $port, @command) = @ARGV;',
  'my ($error, @addresses) = getaddrinfo($host, $port, { socktype => SOCK_STREAM, flags => AI_PASSIVE });',
  'die "cannot resolve $host: $error\\n" if $error;',
  'my ($listener, $reason);',
  'for my $address (@addresses) {',
  '  socket(my $socket, $address->{family}, SOCK_STREAM, 0) or do { $reason = $!; next };',
  '  setsockopt($socket, SOL_SOCKET, SO_REUSEADDR, 1) or die "SO_REUSEADDR: $!\\n";',
  '  setsockopt($socket, IPPROTO_TCP, TCP_NODELAY, 1) or die "TCP_NODELAY: $!\\n";',
  '  if (bind($socket, $address->{addr}) && listen($socket, 16)) { $listener = $socket; last }',
  '  $reason = $!;',
  '}',
  'die "cannot listen on $host port $port: $reason\\n" unless $listener;',
  'defined POSIX::dup2(fileno($listener), 3) or die "dup2: $!\\n";',
  'open(my $three, "+<&=", 3) or die "fd 3: $!\\n"; fcntl($three, F_SETFD, 0) or die "fd 3: $!\\n";',
  '$ENV{LISTEN_PID} = $$; $ENV{LISTEN_FDS} = 1; delete $ENV{LISTEN_FDNAMES};',
  'exec { $command[0] } @command or die "cannot run $command[0]: $!\\n";',
].join('\n');

/** `command` run on a TCP_NODELAY listener at address:port, as its socket-activated fd 3 (same pid). */
export function noDelayListenerArgv(address: string, port: number, command: readonly string[]): string[] {
  return ['perl', '-e', LISTENER_SCRIPT, address, String(port), ...command];
}
