//! `wixauth exec --each-instance -- COMMAND`: the command once per instance, with that
//! instance's `WIX_ACCESS_TOKEN` and `WIX_INSTANCE_ID` (and never the app secret or a refresh
//! token: `child_env` says what a child gets). Its output lines are prefixed
//! `<instance_id>: `, or with `--raw` kept whole and shown one instance after another.
//!
//! Each command runs in a process group of its own, so a Ctrl-C at the terminal reaches
//! wixauth only: the first stops new instances and lets the running ones finish, the second
//! kills them. A SIGTERM or SIGHUP (a CI runner cancelling) is passed on to them, so no
//! command runs on with its token after wixauth is gone.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use super::child::{exit_code, spawn_error};
use crate::app::context::Context;
use crate::app::fleet::{self, FleetOptions, Shape};
use crate::core::error::{Error, Invocation, Result};
#[cfg(unix)]
use crate::credentials::fleet::Interrupter;
use crate::credentials::fleet::{Job, JobRun, Output, Record, Stream};
use crate::credentials::profile::child_env;
use crate::credentials::Freshness;
use crate::ui::Io;

/// Output lines are cut into pieces of at most this many bytes (each prefixed).
const MAX_LINE: u64 = 64 << 10;
/// `--raw` keeps this much of a command's output in memory, the rest in a temporary file.
const IN_MEMORY: usize = 256 << 10;

/// The commands running now, by process id (their process groups have the same id).
#[derive(Default)]
struct Running(Mutex<BTreeSet<u32>>);

impl Running {
    fn set(&self) -> std::sync::MutexGuard<'_, BTreeSet<u32>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `signal` to every running command's process group.
    #[cfg(unix)]
    fn signal(&self, signal: libc::c_int) {
        for pid in self.set().iter() {
            if let Ok(group) = libc::pid_t::try_from(*pid) {
                // SAFETY: kill(2) takes plain integers; the worst outcome is an error return.
                unsafe {
                    libc::kill(-group, signal);
                }
            }
        }
    }
}

struct Commands {
    program: OsString,
    args: Vec<OsString>,
    min_ttl: u64,
    raw: bool,
    running: Arc<Running>,
}

impl Job for Commands {
    type Out = u8;

    fn run(&self, run: &JobRun) -> Result<u8> {
        let freshness = Freshness {
            min_ttl: self.min_ttl,
            force: false,
        };
        let token = run.session.fresh_token(run.target, freshness)?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let vars = child_env(run.target, &token.access_token);
        for (name, value) in &vars.set {
            command.env(name, value.expose());
        }
        for name in &vars.removed {
            command.env_remove(name);
        }
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn().map_err(|e| spawn_error(&self.program, e))?;
        self.running.set().insert(child.id());
        let read = match self.raw {
            true => keep_whole(&mut child, run.sink()),
            false => pass_lines(&mut child, run.sink()),
        };
        let status = self.wait(&mut child);
        read.map_err(|e| Error::failure(format!("cannot read the command's output: {e}")))?;
        Ok(exit_code(status?))
    }

    fn exit(&self, code: &u8) -> u8 {
        *code
    }

    #[cfg(unix)]
    fn abort(&self) -> bool {
        self.running.signal(libc::SIGKILL);
        true
    }

    #[cfg(unix)]
    fn watch(&self, stop: &Interrupter) {
        use signal_hook::consts::{SIGHUP, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) else {
            return;
        };
        let (running, stop) = (self.running.clone(), stop.clone());
        std::thread::spawn(move || {
            for signal in signals.forever() {
                // No new instance starts; the running ones hear it too.
                stop.press();
                running.signal(signal);
            }
        });
    }
}

impl Commands {
    /// Waits for the command; it leaves the running set before it is reaped, so its process
    /// id is never signalled once another process may have it.
    fn wait(&self, child: &mut Child) -> Result<std::process::ExitStatus> {
        #[cfg(unix)]
        {
            let pid = child.id() as libc::id_t;
            loop {
                // SAFETY: waitid writes into the zeroed struct we own; WNOWAIT leaves the
                // child to be reaped by `Child::wait` below.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let done = unsafe {
                    libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT)
                };
                let interrupted =
                    std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted;
                if done == 0 || !interrupted {
                    break;
                }
            }
        }
        self.running.set().remove(&child.id());
        child
            .wait()
            .map_err(|e| Error::failure(format!("cannot wait for the command: {e}")))
    }
}

/// Each line of the command's stdout and stderr to the report as it comes.
fn pass_lines(child: &mut Child, sink: &(dyn Fn(Output) + Sync)) -> std::io::Result<()> {
    let (out, err) = (child.stdout.take(), child.stderr.take());
    std::thread::scope(|scope| {
        let errs = scope.spawn(|| match err {
            Some(err) => each_line(err, |line| sink(Output::Piece(Stream::Err, line))),
            None => Ok(()),
        });
        let outs = match out {
            Some(out) => each_line(out, |line| sink(Output::Piece(Stream::Out, line))),
            None => Ok(()),
        };
        let errs = errs.join().unwrap_or(Ok(()));
        outs.and(errs)
    })
}

fn each_line(stream: impl Read, mut line: impl FnMut(Vec<u8>)) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut buf = Vec::new();
        if (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line(buf);
    }
}

/// All of the command's output, kept until it ends, then to the report at once.
fn keep_whole(child: &mut Child, sink: &(dyn Fn(Output) + Sync)) -> std::io::Result<()> {
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let (out, err) = std::thread::scope(|scope| {
        let errs = scope.spawn(|| spool(err));
        let outs = spool(out);
        (outs, errs.join().unwrap_or_else(|_| Ok(Spool::default())))
    });
    sink(Output::Block(out?.reader()?, err?.reader()?));
    Ok(())
}

fn spool(stream: Option<impl Read>) -> std::io::Result<Spool> {
    let mut kept = Spool::default();
    if let Some(mut stream) = stream {
        std::io::copy(&mut stream, &mut kept)?;
    }
    Ok(kept)
}

/// Output kept in memory, spilling to an unnamed temporary file past [`IN_MEMORY`].
#[derive(Default)]
struct Spool {
    memory: Vec<u8>,
    file: Option<std::fs::File>,
}

impl Write for Spool {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.file.is_none() && self.memory.len() + bytes.len() > IN_MEMORY {
            let mut file = tempfile::tempfile()?;
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write(bytes),
            None => self.memory.write(bytes),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Spool {
    fn reader(self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self.file {
            Some(mut file) => {
                file.rewind()?;
                Box::new(BufReader::new(file))
            }
            None => Box::new(std::io::Cursor::new(self.memory)),
        })
    }
}

pub(super) fn run(
    each: &FleetOptions,
    command: &[OsString],
    min_ttl: u64,
    raw: bool,
    ctx: &Context,
    io: &mut Io,
) -> Result<u8> {
    let Some((program, args)) = command.split_first() else {
        return Err(Error::usage(
            "exec needs a command: wixauth exec -- COMMAND [ARGS...]",
        ));
    };
    let job = Commands {
        program: program.clone(),
        args: args.to_vec(),
        min_ttl,
        raw,
        running: Arc::default(),
    };
    let mut line = |_: &Record<u8>, _: &Invocation| None;
    let shape = Shape {
        line: &mut line,
        prefix: !raw,
        note_failures: true,
        keep: None,
        describe: None,
    };
    fleet::run(ctx, io, each, None, job, shape)?.into_code(io)
}
