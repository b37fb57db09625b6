//! Fleet runs: one job (a token, an API call, a BI event, a command) for each instance of a
//! list, on a few worker threads, under Wix's rate limit ([`pace`]).
//!
//! Each worker has a session of its own (secret store, Wix client, warnings: none of them is
//! shared across threads) over the run's environment, files and config, which all share. A
//! job asks for its token as any command does, under the per-instance lock and cache, so two
//! fleets at once still make one token request per instance. Results stream to the caller's
//! [`Report`] on the calling thread as they come: nothing grows with the fleet but the counts.
//! Nothing here touches a terminal.

mod ids;
pub(crate) mod pace;

use std::collections::BTreeSet;
use std::io::Read;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::store::Secrets;
use super::{Session, Source, Target};
use crate::core::error::{Cmd, Error, Fix, Result};
use crate::core::log::Notes;
use crate::settings::config::{Config, Paths};
use crate::settings::env::Env;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::wix::LazyClient;
pub(crate) use ids::{parse_instance_ids, scan_instance_ids};
use pace::{InstancePacer, Limiter};

/// The most workers a fleet runs (`--concurrency`).
pub(crate) const MAX_CONCURRENCY: usize = 128;
/// How often the caller's [`Report::tick`] runs while nothing else happens.
const TICK: Duration = Duration::from_millis(50);

/// How a fleet runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub concurrency: usize,
    /// Requests a second across the fleet (`--rate`), or none.
    pub rate: Option<f64>,
    pub fail_fast: bool,
}

/// What every worker reads and none changes: the run's environment, files and config.
pub(crate) struct Ground {
    pub env: Env,
    pub paths: Paths,
    pub config: Config,
    pub profile: String,
    /// `--flow`, overriding each instance's.
    pub flow: Option<Flow>,
}

impl Ground {
    fn site_name(&self, instance: &str) -> Option<String> {
        let profile = self.config.profile(&self.profile)?;
        profile.instances.get(instance)?.site_name.clone()
    }
}

/// Which of the child's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Out,
    Err,
}

/// What a fleet does for each instance.
pub(crate) trait Job: Send + Sync + 'static {
    type Out: Send + 'static;
    fn run(&self, run: &JobRun) -> Result<Self::Out>;
    /// The instance's exit code when the job ran (a command's own; 0 for the others).
    fn exit(&self, _out: &Self::Out) -> u8 {
        0
    }
    /// A second Ctrl-C: end what runs now. `false` when it cannot: the fleet is then left
    /// to the process's exit.
    fn abort(&self) -> bool {
        false
    }
    /// Called once before the first instance, with what stops the fleet (a job whose
    /// children must hear of a SIGTERM watches for it).
    fn watch(&self, _stop: &Interrupter) {}
}

/// One job's view: its instance's session and target, and where its output goes.
pub(crate) struct JobRun<'a> {
    pub session: &'a Session<'a>,
    pub target: &'a Target,
    output: &'a (dyn Fn(Output) + Sync),
}

/// Output of a job, to the caller's report.
pub(crate) enum Output {
    /// A piece (a command's line) of one of its streams, in order.
    Piece(Stream, Vec<u8>),
    /// All of it at once, never mixed with another instance's: stdout, then stderr.
    Block(Box<dyn Read + Send>, Box<dyn Read + Send>),
}

impl JobRun<'_> {
    /// Where the job's output goes (callable from the job's own threads).
    pub(crate) fn sink(&self) -> &(dyn Fn(Output) + Sync) {
        self.output
    }

    pub(crate) fn instance(&self) -> &str {
        self.target.instance_id.as_deref().unwrap_or_default()
    }
}

/// How one instance went.
pub(crate) struct Record<O> {
    pub instance: String,
    /// As the profile knows it.
    pub site_name: Option<String>,
    pub result: Result<O>,
    /// 0 when it succeeded.
    pub exit: u8,
    /// Wix's last answer in the job; `None` when it made no request (a cache hit).
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub elapsed: Duration,
    /// Warnings raised on the way (the caller prints each once).
    pub warnings: Vec<String>,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub running: usize,
    pub elapsed: Duration,
}

/// The caller's side: output and results as they come, on the calling thread.
pub(crate) trait Report<O> {
    fn output(&mut self, instance: &str, stream: Stream, bytes: &[u8]) -> Result<()>;
    fn finished(&mut self, record: Record<O>) -> Result<()>;
    /// A job's whole output at once (`exec --raw`): its stdout, then its stderr.
    fn block(&mut self, instance: &str, out: &mut dyn Read, err: &mut dyn Read) -> Result<()>;
    /// An instance left out: stopped before its turn (Ctrl-C, `--fail-fast`), or abandoned.
    fn not_run(&mut self, instance: &str) -> Result<()>;
    /// Called often; redraw what shows progress, if anything.
    fn tick(&mut self, progress: &Progress);
}

/// How a run ended.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ended {
    pub progress: Progress,
    pub not_run: usize,
    /// The highest exit code seen (0: all succeeded).
    pub worst: u8,
    pub interrupted: bool,
    /// 429s Wix answered (each slowed the fleet down).
    pub throttled: u64,
}

/// The ids a fleet runs for, and how many.
pub(crate) struct Ids {
    pub total: usize,
    pub iter: Box<dyn Iterator<Item = String> + Send>,
}

impl Ids {
    /// A list given in full (`--instances-from`).
    pub(crate) fn listed(ids: Vec<String>) -> Ids {
        Ids {
            total: ids.len(),
            iter: Box::new(ids.into_iter()),
        }
    }

    /// Every instance of the profile not marked removed, in order, read from `ground` as the
    /// workers go (no copy of the list).
    pub(crate) fn of_profile(ground: &Arc<Ground>) -> Ids {
        let live = |g: &Ground| -> usize {
            g.config
                .profile(&g.profile)
                .map_or(0, |p| p.instances.values().filter(|i| !i.removed).count())
        };
        let total = live(ground);
        let ground = ground.clone();
        let mut last: Option<String> = None;
        let iter = std::iter::from_fn(move || {
            use std::ops::Bound::{Excluded, Unbounded};
            let instances = &ground.config.profile(&ground.profile)?.instances;
            let from = last.as_ref().map_or(Unbounded, |l| Excluded(l.clone()));
            let (id, _) = instances
                .range::<String, _>((from, Unbounded))
                .find(|(_, i)| !i.removed)?;
            last = Some(id.clone());
            Some(id.clone())
        });
        Ids {
            total,
            iter: Box::new(iter),
        }
    }
}

/// Stops a running fleet (handed to the interrupt handler): each press at once closes the
/// queue, so no worker starts another instance; the second also aborts the running ones.
#[derive(Clone, Default)]
pub(crate) struct Interrupter {
    presses: Arc<AtomicUsize>,
    stopped: Arc<AtomicBool>,
}

impl Interrupter {
    pub(crate) fn press(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.presses.fetch_add(1, Ordering::SeqCst);
    }
    fn presses(&self) -> usize {
        self.presses.load(Ordering::SeqCst)
    }
}

/// The ids still to run; closed by a stop.
struct Queue {
    ids: Mutex<Box<dyn Iterator<Item = String> + Send>>,
    stopped: Arc<AtomicBool>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Box<dyn Iterator<Item = String> + Send>> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// The next id, unless the fleet was stopped.
    fn next(&self) -> Option<String> {
        let mut ids = self.lock();
        match self.stopped.load(Ordering::SeqCst) {
            true => None,
            false => ids.next(),
        }
    }
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
    /// One of the ids a stop left, stopped or not.
    fn left_over(&self) -> Option<String> {
        self.lock().next()
    }
}

enum Event<O> {
    Started(String),
    Output(String, Output),
    Done(Record<O>),
    WorkerGone,
}

/// A fleet, ready to run.
pub(crate) struct Fleet {
    ground: Arc<Ground>,
    ids: Ids,
    plan: Plan,
    interrupts: Interrupter,
}

impl Fleet {
    pub(crate) fn new(ground: Arc<Ground>, ids: Ids, plan: Plan) -> Fleet {
        Fleet {
            ground,
            ids,
            plan,
            interrupts: Interrupter::default(),
        }
    }

    /// Give this to Ctrl-C: the first press stops new instances, the second aborts the
    /// running ones.
    pub(crate) fn interrupter(&self) -> Interrupter {
        self.interrupts.clone()
    }

    /// Runs `job` for every id, reporting as results come; returns when every worker is done
    /// (or, after a second Ctrl-C the job cannot abort, at once).
    pub(crate) fn run<J: Job>(self, job: J, report: &mut dyn Report<J::Out>) -> Result<Ended> {
        job.watch(&self.interrupts);
        let job = Arc::new(job);
        let limiter = Limiter::new(self.plan.rate);
        let queue = Arc::new(Queue {
            ids: Mutex::new(self.ids.iter),
            stopped: self.interrupts.stopped.clone(),
        });
        let workers = self
            .plan
            .concurrency
            .clamp(1, MAX_CONCURRENCY)
            .min(self.ids.total.max(1));
        let (tx, rx) = mpsc::channel();
        for n in 0..workers {
            let fail_fast = self.plan.fail_fast;
            let (ground, queue, job, limiter, tx) = (
                self.ground.clone(),
                queue.clone(),
                job.clone(),
                limiter.clone(),
                tx.clone(),
            );
            std::thread::Builder::new()
                .name(format!("fleet-{n}"))
                .spawn(move || work(&ground, &queue, &*job, (limiter, fail_fast), &tx))
                .map_err(|e| Error::failure(format!("cannot start a fleet worker: {e}")))?;
        }
        drop(tx);
        let mut tally = Tally {
            ended: Ended {
                progress: Progress {
                    total: self.ids.total,
                    ..Progress::default()
                },
                ..Ended::default()
            },
            running: BTreeSet::new(),
            gone: 0,
            workers,
            fail_fast: self.plan.fail_fast,
        };
        let started = Instant::now();
        let (mut presses, mut abandoned) = (0, false);
        loop {
            let now_pressed = self.interrupts.presses();
            if now_pressed > presses {
                presses = now_pressed;
                queue.stop();
                tally.ended.interrupted = true;
                if presses >= 2 && !job.abort() {
                    abandoned = true;
                    break;
                }
            }
            let event = match rx.recv_timeout(TICK) {
                Ok(event) => Some(event),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match event.map(|e| tally.take(e, &queue, report)) {
                Some(Ok(true)) => break,
                Some(Err(e)) => {
                    // The report cannot take more (stdout closed): nothing more is started.
                    queue.stop();
                    return Err(e);
                }
                Some(Ok(false)) | None => {}
            }
            tally.ended.progress.running = tally.running.len();
            tally.ended.progress.elapsed = started.elapsed();
            report.tick(&tally.ended.progress);
        }
        let mut ended = tally.ended;
        ended.progress.running = 0;
        ended.progress.elapsed = started.elapsed();
        let abandoned_ids = match abandoned {
            true => tally.running,
            false => BTreeSet::new(),
        };
        for id in abandoned_ids
            .into_iter()
            .chain(std::iter::from_fn(|| queue.left_over()))
        {
            ended.not_run += 1;
            report.not_run(&id)?;
        }
        ended.throttled = limiter.throttled();
        Ok(ended)
    }
}

/// What the calling thread knows of a run.
struct Tally {
    ended: Ended,
    running: BTreeSet<String>,
    gone: usize,
    workers: usize,
    fail_fast: bool,
}

impl Tally {
    /// One event from a worker; `true` once every worker is done.
    fn take<O>(
        &mut self,
        event: Event<O>,
        queue: &Queue,
        report: &mut dyn Report<O>,
    ) -> Result<bool> {
        match event {
            Event::Started(id) => {
                self.running.insert(id);
            }
            Event::Output(id, Output::Piece(stream, bytes)) => {
                report.output(&id, stream, &bytes)?
            }
            Event::Output(id, Output::Block(mut out, mut err)) => {
                report.block(&id, &mut *out, &mut *err)?
            }
            Event::Done(record) => {
                self.running.remove(&record.instance);
                let p = &mut self.ended.progress;
                p.done += 1;
                if record.exit != 0 {
                    p.failed += 1;
                    self.ended.worst = self.ended.worst.max(record.exit);
                    if self.fail_fast {
                        queue.stop();
                    }
                }
                report.finished(record)?;
            }
            Event::WorkerGone => {
                self.gone += 1;
                return Ok(self.gone == self.workers);
            }
        }
        Ok(false)
    }
}

/// One worker: its own session, one instance after another until the queue is empty or
/// stopped.
fn work<J: Job>(
    ground: &Ground,
    queue: &Queue,
    job: &J,
    (limiter, fail_fast): (Arc<Limiter>, bool),
    tx: &Sender<Event<J::Out>>,
) {
    let env = &ground.env;
    let notes = Notes::default();
    let secrets = Secrets::new(
        env.secret_store,
        &env.keyring_service,
        &ground.paths,
        notes.clone(),
    );
    let pacer = Rc::new(InstancePacer::new(limiter));
    let wix = LazyClient::paced(env.api_base.clone(), env.http_timeout, pacer.clone());
    let session = Session {
        env,
        paths: &ground.paths,
        config: &ground.config,
        profile: &ground.profile,
        instance_flag: false,
        secrets: &secrets,
        wix: &wix,
        notes: &notes,
    };
    while let Some(id) = queue.next() {
        if tx.send(Event::Started(id.clone())).is_err() {
            return;
        }
        pacer.start();
        let started = Instant::now();
        let output = |out| {
            let _ = tx.send(Event::Output(id.clone(), out));
        };
        let result = session
            .fleet_target(&id, ground.flow)
            .and_then(|target| {
                job.run(&JobRun {
                    session: &session,
                    target: &target,
                    output: &output,
                })
            })
            .map_err(|e| session.advise_fleet(e));
        let exit = match &result {
            Ok(out) => job.exit(out),
            Err(e) => e.exit as u8,
        };
        if exit != 0 && fail_fast {
            // At once, before this worker or another takes the next id.
            queue.stop();
        }
        let (status, request_id) = pacer
            .last_answer()
            .map_or((None, None), |(s, r)| (Some(s), r));
        let record = Record {
            site_name: ground.site_name(&id),
            instance: id,
            result,
            exit,
            status,
            request_id,
            elapsed: started.elapsed(),
            warnings: notes.take(),
        };
        if tx.send(Event::Done(record)).is_err() {
            return;
        }
    }
    let _ = tx.send(Event::WorkerGone);
}

impl Session<'_> {
    /// The target of one instance of a fleet (the profile's, or its list's: not `--instance`
    /// or `WIX_INSTANCE_ID`, which a fleet refuses).
    fn fleet_target(&self, instance: &str, flow: Option<Flow>) -> Result<Target> {
        let mut target = self.resolve(Some(instance), flow)?;
        target.instance_from = Source::Stored;
        Ok(target)
    }

    /// `what` (a fleet run, `wixauth instances`) is for an app's instances: refused for a
    /// profile or environment that acts for one site (a Wix Headless client, an API key).
    pub(crate) fn app_only(&self, what: &str) -> Result<()> {
        let kind = self.kind();
        if kind == Kind::App {
            return Ok(());
        }
        let flow = self.config.profile(self.profile).and_then(|p| p.flow);
        let why = flow
            .filter(|f| f.kind() == kind)
            .and_then(|f| f.allows_app_command(what).err())
            .unwrap_or_else(|| {
                format!(
                    "{what} is for app profiles (basic/advanced), and this is {}",
                    kind.noun()
                )
            });
        Err(Error::usage(format!("profile {:?}: {why}", self.profile))
            .hint("pass --profile NAME of an app profile: this one acts for one site"))
    }

    /// A fleet is for an app's instances, and not with one instance's `WIX_REFRESH_TOKEN`.
    pub(crate) fn fleet_allowed(&self) -> Result<()> {
        self.app_only("--each-instance")?;
        if self.env.refresh_token.is_some() {
            return Err(Error::usage(
                "WIX_REFRESH_TOKEN is one instance's refresh token; a fleet gets each instance's token from the app secret",
            )
            .hint("unset WIX_REFRESH_TOKEN for --each-instance / --instances-from"));
        }
        Ok(())
    }

    /// Before anything runs: the fleet is allowed, the app secret is at hand, and every id is
    /// one of the profile's (unless `WIX_APP_SECRET` stands in, as in CI).
    pub(crate) fn fleet_preflight(&self, ids: &[&str], flow: Option<Flow>) -> Result<()> {
        self.fleet_allowed()?;
        let Some(first) = ids.first() else {
            return Ok(());
        };
        let profile = self.config.profile(self.profile);
        if let Some(p) = profile.filter(|_| self.env.app_secret.is_none()) {
            if let Some(id) = ids.iter().find(|id| !p.instances.contains_key(**id)) {
                return Err(Error::usage(format!(
                    "instance {id} is not one of profile {:?}'s",
                    self.profile
                ))
                .fix(Fix::RunOr(
                    Cmd::new(&["instances", "add", id]),
                    "set WIX_APP_SECRET (CI)".into(),
                )));
            }
        }
        let target = self.resolve(Some(first), flow)?;
        self.ready(&target)
    }
}
