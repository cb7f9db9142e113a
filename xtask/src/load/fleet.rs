//! The release function binaries as Lambda runs them under load: each endpoint has up to
//! `instances` processes, each serving one request at a time (a Lambda execution environment),
//! started when a request finds none idle (a cold start). An instance can be killed in the middle
//! of a request, as a crashed or recycled environment is; its request then fails as API Gateway
//! answers it (502) and the next request gets a new instance.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Mutex, Semaphore};

use super::take_one;
use crate::bench::runtime::{Function, LogSink, RuntimeApi};

/// One execution environment: its own Runtime API and process (killed when the instance drops).
struct Instance {
    runtime: RuntimeApi,
    _process: Function,
}

/// The instances of one endpoint.
struct Pool {
    binary: PathBuf,
    idle: Mutex<Vec<Instance>>,
    /// One permit per instance that may exist: the endpoint's reserved concurrency.
    slots: Semaphore,
}

/// What became of one invocation.
pub enum Invocation {
    /// The function answered: an API Gateway response (`statusCode`, `headers`, `body`).
    Answered {
        response: serde_json::Value,
        latency: Duration,
    },
    /// The instance was killed before it answered.
    Killed { latency: Duration },
}

pub struct Fleet {
    pools: HashMap<&'static str, Pool>,
    environment: Vec<(&'static str, String)>,
    logs: LogSink,
    /// Kills the fault injector asked for and no invocation has taken yet.
    kills_due: AtomicU64,
    pub kills: AtomicU64,
    pub cold_starts: AtomicU64,
}

impl Fleet {
    /// A pool for every binary in `binaries`, none started yet.
    pub fn new(
        target: &std::path::Path,
        binaries: &[&'static str],
        instances: usize,
        environment: Vec<(&'static str, String)>,
        logs: LogSink,
    ) -> Self {
        let pools = binaries
            .iter()
            .map(|binary| {
                let pool = Pool {
                    binary: target.join(binary),
                    idle: Mutex::new(Vec::new()),
                    slots: Semaphore::new(instances),
                };
                (*binary, pool)
            })
            .collect();
        Self {
            pools,
            environment,
            logs,
            kills_due: AtomicU64::new(0),
            kills: AtomicU64::new(0),
            cold_starts: AtomicU64::new(0),
        }
    }

    /// Asks that `count` of the next invocations be killed midway.
    pub fn kill_soon(&self, count: u64) {
        self.kills_due.fetch_add(count, Ordering::Relaxed);
    }

    /// Cancels the kills not yet carried out.
    pub fn calm(&self) {
        self.kills_due.store(0, Ordering::Relaxed);
    }

    /// Hands `event` to an instance of `binary`, waiting for one to be free.
    pub async fn invoke(&self, binary: &str, event: &str) -> anyhow::Result<Invocation> {
        let pool = self
            .pools
            .get(binary)
            .with_context(|| format!("no function {binary}"))?;
        let _slot = pool.slots.acquire().await.context("the fleet stopped")?;
        let reused = pool.idle.lock().await.pop();
        let instance = match reused {
            Some(instance) => instance,
            None => {
                self.cold_starts.fetch_add(1, Ordering::Relaxed);
                let runtime = RuntimeApi::start().await?;
                let process =
                    runtime.spawn_logged(&pool.binary, &self.environment, Some(self.logs.clone()))?;
                Instance {
                    runtime,
                    _process: process,
                }
            }
        };
        let started = std::time::Instant::now();
        // A kill lands anywhere from before the handler's first Data API call to after its last.
        let kill_after =
            take_one(&self.kills_due).then(|| Duration::from_micros(rand::random_range(0..6_000)));
        let answer = instance.runtime.invoke(event);
        let outcome = match kill_after {
            None => Some(answer.await),
            Some(delay) => tokio::select! {
                answer = answer => Some(answer),
                () = tokio::time::sleep(delay) => None,
            },
        };
        match outcome {
            Some(answer) => {
                let answer = answer?;
                pool.idle.lock().await.push(instance);
                Ok(Invocation::Answered {
                    response: answer.body,
                    latency: answer.latency,
                })
            }
            None => {
                // The process is killed with its Runtime API; nothing waits on its answer.
                drop(instance);
                self.kills.fetch_add(1, Ordering::Relaxed);
                Ok(Invocation::Killed {
                    latency: started.elapsed(),
                })
            }
        }
    }

    /// Stops every instance.
    pub async fn stop(&self) {
        for pool in self.pools.values() {
            pool.idle.lock().await.clear();
        }
    }
}

/// The fleet shared by the clients.
pub type SharedFleet = Arc<Fleet>;
