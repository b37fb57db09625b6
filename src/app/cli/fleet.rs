//! The command-line model of fleet runs: the flags `token`, `api`, `bi-event` and `exec` share,
//! and `wixauth instances`.

use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCandidates;

// `--each-instance` and what goes with it (one heading in each command's help). No doc
// comment: a flattened struct's would become the command's own description.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FleetArgs {
    /// Run once for every instance of the profile (`wixauth instances` lists them)
    #[arg(long, help_heading = "Fleet")]
    pub each_instance: bool,

    /// Run once for each instance id in FILE (one a line, or a JSON array; - for stdin); implies --each-instance
    #[arg(long, value_name = "FILE|-", help_heading = "Fleet")]
    pub instances_from: Option<String>,

    /// With --instances-from: leave out (and name) the lines that are not Wix instance ids
    #[arg(long, help_heading = "Fleet")]
    pub skip_invalid: bool,

    /// Instances to run at once [default: 4]
    #[arg(long, value_name = "N", value_parser = concurrency(), help_heading = "Fleet")]
    pub concurrency: Option<u16>,

    /// At most R requests a second across the fleet (Wix's 200 a minute per instance always holds)
    #[arg(long, value_name = "R", value_parser = rate, help_heading = "Fleet")]
    pub rate: Option<f64>,

    /// Start no new instance after the first one fails
    #[arg(long, help_heading = "Fleet")]
    pub fail_fast: bool,

    /// Write the ids that failed or did not run to PATH, in the --instances-from format
    #[arg(long, value_name = "PATH", help_heading = "Fleet")]
    pub retry_file: Option<std::path::PathBuf>,
}

pub(crate) fn concurrency() -> clap::builder::RangedI64ValueParser<u16> {
    clap::value_parser!(u16).range(1..=crate::credentials::fleet::MAX_CONCURRENCY as i64)
}

/// A rate in requests a second: a positive number, at most 10,000.
pub(crate) fn rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 10_000.0 => Ok(r),
        _ => Err("a number of requests a second, above 0 and at most 10000 (e.g. 5 or 0.5)".into()),
    }
}

/// The instances (sites) of the profile's app: what fleet runs go through.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Instances come from logins, `wixauth webhook listen --save-instances` (each AppInstalled) and `wixauth instances add`.\nFleet runs: `wixauth token --each-instance --json`, `wixauth api --each-instance PATH`, `wixauth exec --each-instance -- CMD`."
)]
pub(crate) struct InstancesArgs {
    #[command(subcommand)]
    pub command: Option<InstancesCommand>,

    /// Print the list as JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum InstancesCommand {
    /// Each instance: site name and URL when known, where it came from, when last seen (the default)
    List(InstancesListArgs),
    /// Store instance ids from your own records (source: import)
    Add(InstancesAddArgs),
    /// Forget instances: their entries, refresh tokens and cached tokens
    Remove(InstancesRemoveArgs),
    /// Ask Wix about each instance: learn site names and URLs, mark the sites the app left as removed
    Refresh(InstancesRefreshArgs),
    /// Forget the instances marked removed, with their refresh tokens and cached tokens
    Prune(InstancesPruneArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InstancesListArgs {
    /// Print JSON on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InstancesAddArgs {
    /// Instance ids (as Wix's AppInstalled or your database has them)
    #[arg(
        value_name = "ID",
        required_unless_present = "from",
        conflicts_with = "from"
    )]
    pub ids: Vec<String>,

    /// Read the ids from FILE (one a line, or a JSON array; - for stdin)
    #[arg(long, value_name = "FILE|-")]
    pub from: Option<String>,

    /// With --from: leave out (and name) the lines that are not Wix instance ids
    #[arg(long, requires = "from")]
    pub skip_invalid: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InstancesRemoveArgs {
    /// Instance ids to forget
    #[arg(value_name = "ID", required = true, add = ArgValueCandidates::new(crate::app::candidates::instances))]
    pub ids: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InstancesRefreshArgs {
    /// Instances to ask about at once [default: 4]
    #[arg(long, value_name = "N", value_parser = concurrency())]
    pub concurrency: Option<u16>,

    /// At most R requests a second (Wix's 200 a minute per instance always holds)
    #[arg(long, value_name = "R", value_parser = rate)]
    pub rate: Option<f64>,
}

#[derive(Debug, Args)]
pub(crate) struct InstancesPruneArgs {
    /// Print what was removed as JSON on stdout
    #[arg(long)]
    pub json: bool,
}
