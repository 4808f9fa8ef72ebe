#ifndef TOLLGATE_EXECUTOR_HOOK_H
#define TOLLGATE_EXECUTOR_HOOK_H

/// Where Swift Concurrency enqueues a job on its global executor: (job, the runtime's own enqueue).
typedef void (*tollgate_enqueue_global_hook)(void *job, const void *original);

/// Installs `hook` as the Swift runtime's global-enqueue hook when none is installed; 1 on success.
/// NIO finds the same hook with dlsym, which a statically linked Swift runtime does not export.
int tollgate_install_enqueue_global_hook(tollgate_enqueue_global_hook hook);

#endif
