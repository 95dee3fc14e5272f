//! The runner's command line. Read by hand: a dozen `--name value` options do not justify a
//! parser crate in every clean build of the local stack (decision 0024).

use std::path::PathBuf;

pub const USAGE: &str = "\
Run the SAM template locally against moto: Runtime API, HTTP API, SQS/S3/Schedule sources.

Usage: local-runner [OPTIONS]

Options (each also as --name=value):
  --template PATH             the SAM template, the single source of truth [template.yaml]
  --bin-dir PATH              where the function binaries are (cargo build output) [target/debug]
  --aws-endpoint URL          moto, for every function and the runner
                              [$AWS_ENDPOINT_URL, else http://127.0.0.1:4566]
  --host HOST                 address of the HTTP API [127.0.0.1]
  --port PORT                 port of the HTTP API [3000]
  --stack-name NAME           prefixes every local resource, so stacks can share one moto [rental-local]
  --region REGION             [eu-central-1]
  --account ID                moto's default account [123456789012]
  --param NAME=VALUE          a template parameter override (repeatable)
  --fn-env NAME=VALUE         extra environment for every function (repeatable)
  --dev-secrets PATH          JSON: secret logical id -> local dev value [local-runner/dev-secrets.json]
  --retry-after-secs N        seconds before a failed SQS message is visible again [1]
  --max-instances N           most concurrent instances per function [8]
  --prewarm                   start one instance of every function at boot
  --schedule-period-secs N    fire every rate() schedule this often instead
  --resources-out PATH        write the provisioned resources (logical id -> Ref/attributes) as JSON
  --iam PATH                  the SAM-translated template (scripts/check_translated.py): register
                              each function's role with the moto launcher, which then allows or
                              denies every AWS call the function makes (scripts/moto_iam.py)
  --no-event-sources          serve the HTTP API and direct invokes only: no SQS pollers,
                              S3 notifications or schedules (what the benchmarks use)
  -h, --help                  this text
";

#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub template: PathBuf,
    pub bin_dir: PathBuf,
    pub aws_endpoint: String,
    pub host: String,
    pub port: u16,
    pub stack_name: String,
    pub region: String,
    pub account: String,
    pub params: Vec<(String, String)>,
    pub fn_env: Vec<(String, String)>,
    pub dev_secrets: PathBuf,
    pub retry_after_secs: u64,
    pub max_instances: usize,
    pub prewarm: bool,
    pub schedule_period_secs: Option<u64>,
    pub resources_out: Option<PathBuf>,
    pub iam: Option<PathBuf>,
    pub no_event_sources: bool,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    Run(Box<Args>),
    Help,
}

impl Args {
    /// The defaults, with `aws_endpoint_env` (`$AWS_ENDPOINT_URL`) in place of moto's usual
    /// address when set.
    fn defaults(aws_endpoint_env: Option<String>) -> Self {
        Self {
            template: "template.yaml".into(),
            bin_dir: "target/debug".into(),
            aws_endpoint: aws_endpoint_env
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "http://127.0.0.1:4566".to_owned()),
            host: "127.0.0.1".to_owned(),
            port: 3000,
            stack_name: "rental-local".to_owned(),
            region: "eu-central-1".to_owned(),
            account: "123456789012".to_owned(),
            params: Vec::new(),
            fn_env: Vec::new(),
            dev_secrets: "local-runner/dev-secrets.json".into(),
            retry_after_secs: 1,
            max_instances: 8,
            prewarm: false,
            schedule_period_secs: None,
            resources_out: None,
            iam: None,
            no_event_sources: false,
        }
    }
}

/// Parses the arguments after the program name. The error is a one-line message for stderr.
pub fn parse(argv: impl IntoIterator<Item = String>, aws_endpoint_env: Option<String>) -> Result<Command, String> {
    let mut args = Args::defaults(aws_endpoint_env);
    let mut argv = argv.into_iter();
    while let Some(arg) = argv.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument {arg:?} (see --help)"));
        };
        let (name, mut inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        // An option's value, `--name=value` or the next argument: taken only by the options
        // that have one, so an unknown option is reported as unknown.
        let has_inline = inline.is_some();
        let mut value = || inline.take().or_else(|| argv.next()).ok_or_else(|| format!("--{name} needs a value"));
        match name {
            "prewarm" | "no-event-sources" if has_inline => return Err(format!("--{name} takes no value")),
            "prewarm" => args.prewarm = true,
            "no-event-sources" => args.no_event_sources = true,
            "template" => args.template = value()?.into(),
            "bin-dir" => args.bin_dir = value()?.into(),
            "aws-endpoint" => args.aws_endpoint = value()?,
            "host" => args.host = value()?,
            "port" => args.port = number(name, &value()?)?,
            "stack-name" => args.stack_name = value()?,
            "region" => args.region = value()?,
            "account" => args.account = value()?,
            "param" => args.params.push(key_value(name, &value()?)?),
            "fn-env" => args.fn_env.push(key_value(name, &value()?)?),
            "dev-secrets" => args.dev_secrets = value()?.into(),
            "retry-after-secs" => args.retry_after_secs = number(name, &value()?)?,
            "max-instances" => args.max_instances = number(name, &value()?)?,
            "schedule-period-secs" => args.schedule_period_secs = Some(number(name, &value()?)?),
            "resources-out" => args.resources_out = Some(value()?.into()),
            "iam" => args.iam = Some(value()?.into()),
            _ => return Err(format!("unknown option --{name} (see --help)")),
        }
    }
    Ok(Command::Run(Box::new(args)))
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("--{name}: {value:?} is not a valid number"))
}

fn key_value(name: &str, value: &str) -> Result<(String, String), String> {
    value
        .split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("--{name}: expected NAME=VALUE, got {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(argv: &[&str], env: Option<&str>) -> Result<Args, String> {
        match parse(argv.iter().map(|s| s.to_string()), env.map(str::to_owned))? {
            Command::Run(args) => Ok(*args),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn no_arguments_give_the_defaults() {
        let args = run(&[], None).unwrap();
        assert_eq!(args, Args::defaults(None));
        assert_eq!(args.aws_endpoint, "http://127.0.0.1:4566");
        assert_eq!((args.port, args.max_instances, args.retry_after_secs), (3000, 8, 1));
        assert!(!args.prewarm && !args.no_event_sources && args.resources_out.is_none());
    }

    #[test]
    fn the_endpoint_comes_from_the_environment_unless_given() {
        assert_eq!(run(&[], Some("http://127.0.0.1:5000")).unwrap().aws_endpoint, "http://127.0.0.1:5000");
        assert_eq!(run(&[], Some("")).unwrap().aws_endpoint, "http://127.0.0.1:4566");
        assert_eq!(
            run(&["--aws-endpoint", "http://127.0.0.1:6000"], Some("http://127.0.0.1:5000")).unwrap().aws_endpoint,
            "http://127.0.0.1:6000"
        );
    }

    #[test]
    fn every_option_in_both_spellings() {
        let args = run(
            &[
                "--template=t.yaml",
                "--bin-dir",
                "target/release",
                "--host",
                "0.0.0.0",
                "--port=3100",
                "--stack-name",
                "s",
                "--region",
                "us-east-1",
                "--account=1",
                "--param",
                "A=1",
                "--param=B=x=y",
                "--fn-env",
                "K=v",
                "--dev-secrets",
                "d.json",
                "--retry-after-secs",
                "3",
                "--max-instances=2",
                "--prewarm",
                "--schedule-period-secs",
                "5",
                "--resources-out",
                "r.json",
                "--iam=translated.json",
                "--no-event-sources",
            ],
            None,
        )
        .unwrap();
        assert_eq!(args.template, PathBuf::from("t.yaml"));
        assert_eq!(args.bin_dir, PathBuf::from("target/release"));
        assert_eq!(
            (args.host.as_str(), args.port, args.stack_name.as_str(), args.region.as_str(), args.account.as_str()),
            ("0.0.0.0", 3100, "s", "us-east-1", "1")
        );
        assert_eq!(args.params, [("A".to_owned(), "1".to_owned()), ("B".to_owned(), "x=y".to_owned())]);
        assert_eq!(args.fn_env, [("K".to_owned(), "v".to_owned())]);
        assert_eq!(args.dev_secrets, PathBuf::from("d.json"));
        assert_eq!((args.retry_after_secs, args.max_instances, args.schedule_period_secs), (3, 2, Some(5)));
        assert_eq!(args.resources_out, Some(PathBuf::from("r.json")));
        assert_eq!(args.iam, Some(PathBuf::from("translated.json")));
        assert!(args.prewarm && args.no_event_sources);
    }

    #[test]
    fn bad_command_lines_are_refused_with_the_reason() {
        for (argv, expected) in [
            (&["--port", "http"][..], "--port: \"http\" is not a valid number"),
            (&["--port"], "--port needs a value"),
            (&["--param", "novalue"], "--param: expected NAME=VALUE"),
            (&["--verbose"], "unknown option --verbose"),
            (&["template.yaml"], "unexpected argument"),
            (&["--prewarm=yes"], "--prewarm takes no value"),
        ] {
            let err = run(argv, None).unwrap_err();
            assert!(err.starts_with(expected), "{argv:?}: {err}");
        }
    }

    #[test]
    fn help_is_asked_for_either_way() {
        assert_eq!(run(&["--help"], None).unwrap_err(), "help");
        assert_eq!(run(&["--port", "1", "-h"], None).unwrap_err(), "help");
        for option in ["--template", "--no-event-sources", "--max-instances", "--resources-out", "--fn-env"] {
            assert!(USAGE.contains(option), "{option} is documented");
        }
    }
}
