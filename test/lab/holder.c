/* Lab host holder: becomes a child subreaper, runs its argv, then reaps every
 * orphan of that host until none is left. This machine's PID 1 reaps orphans
 * only every ~2 s, which would make every QEMU stop look 2 s late. */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CMD [ARG]...\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    perror("prctl(PR_SET_CHILD_SUBREAPER)");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("fork");
    return 1;
  }
  if (child == 0) {
    execvp(argv[1], argv + 1);
    perror("execvp");
    _exit(127);
  }
  for (;;) {
    if (waitpid(-1, NULL, 0) < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return 0;
      perror("waitpid");
      return 1;
    }
  }
}
