// Child processes of the harness (sweep cells, eval shards, bench copies,
// ffmpeg): started with posix_spawn, waited for across EINTR.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace harness {

// Starts args[0] (looked up on PATH when it has no '/') with `args`; a
// descriptor >= 0 becomes the child's stdin, stdout or stderr. Returns its
// pid. Throws std::runtime_error "cannot start 'PROGRAM': REASON".
pid_t spawn_process(const std::vector<std::string>& args, int stdin_fd = -1, int stdout_fd = -1,
                    int stderr_fd = -1);

// Waits for `pid` to end and returns its waitpid status.
int wait_process(pid_t pid);

}  // namespace harness
