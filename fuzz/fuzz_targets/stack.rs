//! Runs each fuzz input on a long-lived worker thread whose stack is as small as a tokio worker
//! thread's (2 MiB, tokio's default, which the registry keeps): recursion that would overflow in
//! the service must overflow here too, not pass on the main thread's 8 MiB.
//!
//! A panic or stack overflow on the worker aborts the process (libfuzzer-sys installs an aborting
//! panic hook), so libFuzzer records it as a crash like one on the main thread.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, OnceLock};

/// Tokio's default worker thread stack size.
pub const STACK: usize = 2 * 1024 * 1024;

type Job = Box<dyn FnOnce() + Send>;

struct Worker {
    jobs: SyncSender<Job>,
    done: Mutex<Receiver<()>>,
}

/// Runs `f` on the worker thread and waits for it.
pub fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    static WORKER: OnceLock<Worker> = OnceLock::new();
    let worker = WORKER.get_or_init(|| {
        let (jobs, rx) = sync_channel::<Job>(0);
        let (done_tx, done) = sync_channel(0);
        std::thread::Builder::new()
            .name("fuzz-worker".into())
            .stack_size(STACK)
            .spawn(move || {
                for job in rx {
                    job();
                    if done_tx.send(()).is_err() {
                        return;
                    }
                }
            })
            .expect("spawn the fuzz worker");
        Worker {
            jobs,
            done: Mutex::new(done),
        }
    });
    let done = worker.done.lock().expect("one fuzz input at a time");
    worker.jobs.send(Box::new(f)).expect("the fuzz worker runs");
    done.recv().expect("the fuzz worker finishes the input");
}
