#include "executor_hook.h"

/// Defined by libswift_Concurrency (swift/Runtime/Concurrency.h); resolved when linking, so it is
/// found in a static binary too.
extern void *swift_task_enqueueGlobal_hook;

int tollgate_install_enqueue_global_hook(tollgate_enqueue_global_hook hook) {
    void *expected = 0;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, (void *)hook, 0,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
