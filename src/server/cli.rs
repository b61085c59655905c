//! The `daohu` command line: serve, migrate, load the demo, add users.

use clap::{Parser, Subcommand};

use crate::auth::Role;
use crate::server::config::Config;

#[derive(Parser)]
#[command(
    name = "daohu",
    version,
    about = "到户 Daohu — 逐户核实补贴是否到户 / verify, household by household, that subsidies arrived"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Migrate the database and serve the web app.
    Serve {
        /// Load the demo county first if the database holds no households
        /// (with 40 % of the households visited, so progress has a story).
        #[arg(long)]
        demo_if_empty: bool,
    },
    /// Bring the database schema up to date and load missing catalogue items.
    Migrate,
    /// Generate and load the deterministic demo county.
    Demo {
        /// How many households (≈50 per village, 3 villages per township).
        #[arg(long, default_value_t = 300)]
        households: usize,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 2023)]
        seed: u64,
        /// Do nothing if the database already holds households.
        #[arg(long)]
        if_empty: bool,
        /// Also record visits for this per cent of each worker's households,
        /// on days from the start of the statistics year to today.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
        visited_percent: u32,
        /// Also import the 区民政局's payout file of 农村低保 (三方比对).
        #[arg(long)]
        payout_file: bool,
    },
    /// Load the demo county's areas and sign-ins without its households,
    /// and write those households and their payments due as the two import
    /// files (CSV): to try the roster import, or to time it.
    DemoRoster {
        /// How many households (≈4 members and ≈7 payments due each).
        #[arg(long, default_value_t = 300)]
        households: usize,
        #[arg(long, default_value_t = 2023)]
        seed: u64,
        /// Directory to write `households.csv` and `entitlements.csv` into.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Load the demo at province scale into an empty database (Gansu's
    /// shape: 14 cities, 86 counties, ~1,300 townships, ~16,000 villages),
    /// for measuring; sign in as `province`, `county620101`, … with the
    /// demo password.
    DemoProvince {
        /// Households in all (1.5 million is Gansu's scale).
        #[arg(long, default_value_t = 1_500_000)]
        households: usize,
        #[arg(long, default_value_t = 2023)]
        seed: u64,
        /// Also visit this per cent of the households (as the phones would).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
        visited_percent: u32,
    },
    /// Recompute the income accounts and risk signals of this statistics
    /// year now, county by county, printing the time each took (the server
    /// does this by itself every few hours and after every visit).
    RecomputeIncome {
        /// Only this area's households (12-digit code); all when omitted.
        #[arg(long)]
        area: Option<String>,
    },
    /// Verify the record chains (tamper evidence): every signed record
    /// against the chain entry it was given, every entry against the one
    /// before it. Prints each problem naming the record; exits with 1 if
    /// any is found.
    Verify {
        /// Only the chains of this area (12-digit code); below county
        /// level, its county's chain. All when omitted.
        #[arg(long)]
        area: Option<String>,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user bound to one area node.
    Add {
        #[arg(long)]
        username: String,
        /// The person's name as shown in the app.
        #[arg(long)]
        name: String,
        /// field_worker, township_supervisor, county_admin, city_admin or province_admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// 12-digit area code the user is bound to.
        #[arg(long)]
        area: String,
        /// At least 10 characters and not a common password (see
        /// `src/auth/password.rs`). Prefer the environment variable to keep
        /// it out of shell history.
        #[arg(long, env = "DAOHU_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("未知角色“{s}”，可选：{}", names.join(", "))
    })
}
