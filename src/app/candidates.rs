//! Completion candidates computed at Tab time: profiles from config.toml, instances of the
//! profile being typed, `bi-event` names. Nothing here may fail loudly: a broken config or
//! environment just means fewer candidates.

use std::ffi::OsString;

use clap_complete::engine::CompletionCandidate;

use crate::settings::config::{Config, Paths, DEFAULT_PROFILE};
use crate::settings::env::Env;

/// Profiles in config.toml.
pub(crate) fn profiles() -> Vec<CompletionCandidate> {
    let Some((_, config)) = load() else {
        return Vec::new();
    };
    config
        .profiles
        .iter()
        .map(|(name, profile)| {
            let help = profile.app_id.as_deref().map(|id| format!("app {id}"));
            CompletionCandidate::new(name).help(help.map(Into::into))
        })
        .collect()
}

/// Instances of the profile the command line names (`--profile`), else the active one.
pub(crate) fn instances() -> Vec<CompletionCandidate> {
    let Some((env, config)) = load() else {
        return Vec::new();
    };
    // As a command picks its profile: the flag, WIXAUTH_PROFILE, the active one (`switch`).
    let name = profile_on_command_line(std::env::args_os())
        .or(env.profile)
        .or(config.active_profile.clone())
        .unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    let Some(profile) = config.profile(&name) else {
        return Vec::new();
    };
    profile
        .instances
        .iter()
        .map(|(id, instance)| {
            let default = profile.default_instance.as_deref() == Some(id.as_str());
            // Site names come from Wix: escaped, and short enough for a completion menu.
            let site = instance
                .site_name
                .as_deref()
                .map(|s| format!("{}, ", crate::core::text::printable(s, 40)))
                .unwrap_or_default();
            let help = format!(
                "{site}{} flow{}",
                instance.flow,
                if default { ", default" } else { "" }
            );
            CompletionCandidate::new(id).help(Some(help.into()))
        })
        .collect()
}

/// `bi-event` names: the `finished` shorthand, then Wix's own.
pub(crate) fn events() -> Vec<CompletionCandidate> {
    std::iter::once(
        CompletionCandidate::new("finished").help(Some("APP_FINISHED_CONFIGURATION".into())),
    )
    .chain(
        crate::wix::apps::EVENTS
            .iter()
            .map(|e| CompletionCandidate::new(*e)),
    )
    .collect()
}

fn load() -> Option<(Env, Config)> {
    let env = Env::from_process().ok()?;
    let paths = Paths::new(&env).ok()?;
    let config = Config::load(&paths.config_file()).ok()?;
    Some((env, config))
}

/// The last `--profile NAME` / `--profile=NAME` among the words being completed.
fn profile_on_command_line(args: impl Iterator<Item = OsString>) -> Option<String> {
    let all: Vec<String> = args.filter_map(|a| a.into_string().ok()).collect();
    // `wixauth -- WORDS…`: the first `--` separates the protocol from the typed words.
    let words = match all.iter().position(|w| w == "--") {
        Some(i) => &all[i + 1..],
        None => &all[..],
    };
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        if let Some(value) = word.strip_prefix("--profile=") {
            found = Some(value.to_string());
        } else if word == "--profile" {
            found = words.get(i + 1).cloned();
        } else if word == "--" {
            // After the typed `--`, nothing is an option any more.
            break;
        }
    }
    found
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> impl Iterator<Item = OsString> {
        list.iter()
            .map(OsString::from)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn finds_the_profile_being_typed() {
        let args = [
            "wixauth",
            "--",
            "wixauth",
            "--profile",
            "shop",
            "token",
            "--instance",
            "",
        ];
        assert_eq!(profile_on_command_line(words(&args)), Some("shop".into()));
        let args = [
            "wixauth",
            "--",
            "wixauth",
            "--profile=a",
            "--profile=b",
            "token",
        ];
        assert_eq!(profile_on_command_line(words(&args)), Some("b".into()));
        let args = ["wixauth", "--", "wixauth", "token", "--instance", ""];
        assert_eq!(profile_on_command_line(words(&args)), None);
        let args = [
            "wixauth",
            "--",
            "wixauth",
            "exec",
            "--",
            "x",
            "--profile",
            "no",
        ];
        assert_eq!(profile_on_command_line(words(&args)), None);
    }
}
