//! Pruning off the commit path. Deleting what the oldest kept version no longer needs costs about
//! as much as writing it did (bench-scale: most of Commit at a large book), and nothing in the
//! next block depends on it: readers refuse pruned versions from the moment a commit raises the
//! oldest one, and pruning touches only data no kept version can read (see [`crate::prune`]).
//! So a commit hands the new oldest version to one thread, which prunes while the node executes
//! the next block. Requests arriving while it works are merged into the newest one.

use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use crate::storage::Inner;
use crate::Version;

enum Job {
    PruneTo(Version),
    /// Answered once every earlier request is done (tests, shutdown of a benchmark).
    Flush(mpsc::Sender<()>),
}

/// The pruning thread. Dropping it (with the last clone of the storage) lets it finish the
/// current request and waits for it, so the database is closed when the storage is gone.
pub(crate) struct Background {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Background {
    pub(crate) fn start(inner: Arc<Inner>) -> std::io::Result<Background> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("store-pruner".into())
            .spawn(move || work(&inner, &rx))?;
        Ok(Background {
            jobs: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn send(&self, job: Job) -> bool {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok())
    }

    pub(crate) fn prune_to(&self, oldest: Version) {
        if !self.send(Job::PruneTo(oldest)) {
            tracing::warn!(oldest, "the pruning thread is gone; the next open prunes");
        }
    }

    pub(crate) fn flush(&self) {
        let (tx, rx) = mpsc::channel();
        if self.send(Job::Flush(tx)) {
            let _ = rx.recv();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

fn work(inner: &Inner, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut target: Option<Version> = None;
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::PruneTo(v) => target = Some(target.map_or(v, |t| t.max(v))),
                Job::Flush(done) => waiting.push(done),
            }
            next = jobs.try_recv().ok();
        }
        if let Some(oldest) = target {
            if let Err(e) = inner.prune_to(oldest) {
                tracing::warn!(error = %e, oldest, "pruning failed; the next commit retries");
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}
