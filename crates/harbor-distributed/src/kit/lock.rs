//! Locks that shrug off poisoning.
//!
//! A lock is poisoned when a thread panicked while holding it. The drivers' critical
//! sections never leave their state half-written at a point where they could panic (they
//! read, or swap, push, remove and count in steps that each leave the state whole), so the
//! data behind a poisoned lock is as good as any other: one panicking task must not turn
//! every later publish, ack or close of the bus into a second panic.

use std::sync::{
    Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::Duration;

/// Locks `mutex`, taking its data even if a panic poisoned it.
///
/// ```
/// use std::sync::Mutex;
///
/// let held = Mutex::new(0);
/// *harbor_distributed::kit::lock(&held) += 1;
/// assert_eq!(*harbor_distributed::kit::lock(&held), 1);
/// ```
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks `lock`, taking its data even if a panic poisoned it.
///
/// ```
/// use std::sync::RwLock;
///
/// let routes = RwLock::new(vec!["a"]);
/// assert_eq!(harbor_distributed::kit::read(&routes).len(), 1);
/// ```
pub fn read<T: ?Sized>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks `lock`, taking its data even if a panic poisoned it.
///
/// ```
/// use std::sync::RwLock;
///
/// let routes = RwLock::new(Vec::new());
/// harbor_distributed::kit::write(&routes).push("a");
/// assert_eq!(harbor_distributed::kit::read(&routes).len(), 1);
/// ```
pub fn write<T: ?Sized>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The data of `mutex`, which is not shared while borrowed mutably, even if a panic
/// poisoned it.
///
/// ```
/// use std::sync::Mutex;
///
/// let mut held = Mutex::new(Some(1));
/// assert_eq!(harbor_distributed::kit::get_mut(&mut held).take(), Some(1));
/// ```
pub fn get_mut<T: ?Sized>(mutex: &mut Mutex<T>) -> &mut T {
    mutex.get_mut().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar` with `guard`, taking the data back even if a panic poisoned it.
pub fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar` with `guard` for at most `timeout`, taking the data back even if a
/// panic poisoned it.
///
/// ```
/// use std::sync::{Condvar, Mutex};
/// use std::time::Duration;
///
/// let (plan, wake) = (Mutex::new(0), Condvar::new());
/// let guard = harbor_distributed::kit::wait_timeout(&wake, harbor_distributed::kit::lock(&plan), Duration::from_millis(1));
/// assert_eq!(*guard, 0);
/// ```
pub fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> MutexGuard<'a, T> {
    condvar
        .wait_timeout(guard, timeout)
        .unwrap_or_else(PoisonError::into_inner)
        .0
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex, RwLock};

    use super::{lock, read, write};

    #[test]
    fn poisoned_locks_still_hand_out_their_data() {
        let mutex = Arc::new(Mutex::new(1));
        let rw = Arc::new(RwLock::new(2));
        let (m, r) = (Arc::clone(&mutex), Arc::clone(&rw));
        let panicked = std::thread::spawn(move || {
            let _m = m.lock().expect("first lock");
            let _r = r.write().expect("first lock");
            panic!("poison both");
        })
        .join();
        assert!(panicked.is_err());
        assert!(mutex.is_poisoned() && rw.is_poisoned());
        *lock(&mutex) += 1;
        *write(&rw) += 1;
        assert_eq!((*lock(&mutex), *read(&rw)), (2, 3));
    }
}
