//! Boot only: parse the command line, open the store, run the subcommand.

use anyhow::Context;
use clap::Parser;
use daohu::auth::hashing::Hashing;
use daohu::auth::service::{NewUser, create_user};
use daohu::demo::{self, DEMO_PASSWORD, DemoSpec};
use daohu::server::cli::{Cli, Command, UserCommand};
use daohu::server::config::LogFormat;
use daohu::server::{AppState, db, router};
use daohu::subsidies::StatYear;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = cli.config;
    init_logging(config.log_format);
    Hashing::configure(config.hashing_at_once, config.hashing_queue);
    let store = db::connect(&config.database_url).await?;
    // One process at a time migrates and loads: instances started together
    // on an empty database would otherwise each find it empty and load the
    // demo. Commands that only read (or recompute) let go after migrating.
    let startup = store
        .startup_lock()
        .await
        .context("无法取得数据库启动锁 / cannot take the database's start-up lock")?;
    store
        .migrate()
        .await
        .context("数据库迁移失败 / migration failed")?;
    let loads_data = match &cli.command {
        Command::Serve { demo_if_empty } => *demo_if_empty,
        Command::Demo { .. }
        | Command::DemoProvince { .. }
        | Command::DemoRoster { .. }
        | Command::User { .. } => true,
        Command::Migrate | Command::RecomputeIncome { .. } | Command::Verify { .. } => false,
    };
    let mut startup = if loads_data {
        Some(startup)
    } else {
        startup.release().await;
        None
    };

    match cli.command {
        Command::Migrate => println!(
            "数据库已是最新 / database is up to date ({})",
            store.backend()
        ),
        Command::Demo {
            households,
            seed,
            if_empty,
            visited_percent,
            payout_file,
        } => {
            let demo = DemoRun {
                households,
                seed,
                if_empty,
                visited_percent,
                payout_file,
            };
            load_demo(store.as_ref(), demo).await?;
        }
        Command::DemoProvince {
            households,
            seed,
            visited_percent,
        } => {
            let year = StatYear::containing(daohu::subsidies::china_date(chrono::Utc::now()));
            let shape = demo::province::ProvinceShape::with_households(households);
            println!("{shape:?}");
            let summary = demo::province::load(store.as_ref(), shape, seed, year, &|n, s, secs| {
                if n % 10 == 0 || n == shape.counties {
                    println!(
                        "{n}/{} 县 · {} 户 · {} 人 · {} 条应发补贴 · {secs:.0} s",
                        shape.counties, s.households, s.members, s.entitlements
                    );
                }
            })
            .await?;
            println!(
                "已载入 / loaded: {} 个区划, {} 个用户, {} 户, {} 人, {} 条应发补贴",
                summary.areas,
                summary.users,
                summary.households,
                summary.members,
                summary.entitlements
            );
            if visited_percent > 0 {
                let start = std::time::Instant::now();
                let visits = demo::load_visits(
                    store.as_ref(),
                    &summary.workers,
                    year,
                    visited_percent,
                    seed,
                )
                .await?;
                println!(
                    "已载入演示走访 / visits: {visits} 次, {:.0} s",
                    start.elapsed().as_secs_f64()
                );
            }
        }
        Command::DemoRoster {
            households,
            seed,
            out,
        } => {
            let spec = DemoSpec {
                households,
                seed,
                year: StatYear::containing(daohu::subsidies::china_date(chrono::Utc::now())),
            };
            let data = demo::generate(&spec);
            demo::load_places_and_people(store.as_ref(), &data).await?;
            let (households_csv, entitlements_csv) =
                demo::roster::csv_files(&data, &store.subsidy_items().await?);
            std::fs::create_dir_all(&out)?;
            std::fs::write(out.join("households.csv"), households_csv)?;
            std::fs::write(out.join("entitlements.csv"), entitlements_csv)?;
            println!(
                "已写出 / written: {}/households.csv ({} 户), {}/entitlements.csv ({} 条)",
                out.display(),
                data.households.len(),
                out.display(),
                data.entitlements.len()
            );
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    name,
                    role,
                    area,
                    password,
                },
        } => {
            let user = create_user(
                store.as_ref(),
                NewUser {
                    username,
                    display_name: name,
                    role,
                    area,
                    password,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "已创建用户 {}（{}，{}）",
                user.username,
                user.role.label(),
                user.area
            );
        }
        Command::RecomputeIncome { area } => {
            recompute_income(store.as_ref(), area.as_deref()).await?;
        }
        Command::Verify { area } => {
            if !verify(store.as_ref(), area.as_deref()).await? {
                std::process::exit(1);
            }
        }
        Command::Serve { demo_if_empty } => {
            if demo_if_empty {
                let demo = DemoRun {
                    households: 300,
                    seed: 2023,
                    if_empty: true,
                    visited_percent: DEMO_VISITED_PERCENT,
                    payout_file: true,
                };
                load_demo(store.as_ref(), demo).await?;
            }
            if let Some(lock) = startup.take() {
                lock.release().await;
            }
            let addr = config.addr;
            // Derived work queued by writes (also by writes that crashed
            // before it was done), and the calendar's (overdue measures).
            daohu::server::spawn_background(
                store.clone(),
                format!("{}:{}", std::process::id(), addr),
            );
            let state = AppState::new(config, store);
            let app = router(state);
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("无法监听 {addr} / cannot listen on {addr}"))?;
            println!("到户 Daohu 已启动 / listening on http://{addr}");
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        }
    }
    if let Some(lock) = startup {
        lock.release().await;
    }
    Ok(())
}

/// Log lines on standard output, filtered by `RUST_LOG`: text for people, or with
/// `DAOHU_LOG_FORMAT=json` one JSON object per line (time, level, target,
/// message and fields, and the span they happened in) for a collector.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
}

/// The share of households `serve --demo-if-empty` shows as visited.
const DEMO_VISITED_PERCENT: u32 = 40;

/// What to load as the demo county.
struct DemoRun {
    households: usize,
    seed: u64,
    /// Only into a database without households.
    if_empty: bool,
    visited_percent: u32,
    /// Also the 区民政局's payout file (三方比对).
    payout_file: bool,
}

async fn load_demo(store: &dyn db::Store, run: DemoRun) -> anyhow::Result<()> {
    let DemoRun {
        households,
        seed,
        if_empty,
        visited_percent,
        payout_file,
    } = run;
    let year = StatYear::containing(daohu::subsidies::china_date(chrono::Utc::now()));
    let spec = DemoSpec {
        households,
        seed,
        year,
    };
    let summary = demo::load(store, &spec, if_empty).await?;
    if summary.loaded {
        println!(
            "已载入演示数据 / demo loaded: {} 户, {} 条应发补贴 ({})",
            summary.households,
            summary.entitlements,
            year.label()
        );
        if visited_percent > 0 {
            let workers: Vec<String> = summary
                .logins
                .iter()
                .filter(|l| l.role == daohu::auth::Role::FieldWorker)
                .map(|l| l.username.clone())
                .collect();
            let visits = demo::load_visits(store, &workers, year, visited_percent, seed).await?;
            println!("已载入演示走访 / demo visits: {visits} 次");
        }
        if payout_file {
            let county = summary
                .logins
                .iter()
                .find(|l| l.role == daohu::auth::Role::CountyAdmin)
                .ok_or_else(|| anyhow::anyhow!("演示数据中没有县级账号"))?;
            let paid = demo::load_payouts(store, &county.area, &county.username, year).await?;
            println!("已载入演示发放名单 / demo payout file (农村低保, 三方比对): {paid} 户");
        }
    }
    println!("演示账号 / demo sign-ins (密码 password: {DEMO_PASSWORD}):");
    for l in &summary.logins {
        println!(
            "  {:<12} {}  {}",
            l.username,
            l.role.label(),
            l.display_name
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

/// `recompute-income`: the area's counties one by one (or the area alone
/// when it is a county or below), each timed.
/// `daohu verify`: chains what is waiting (as a running server would),
/// then walks every chain the area covers; true if all are clean.
async fn verify(store: &dyn db::Store, area: Option<&str>) -> anyhow::Result<bool> {
    let area = area
        .map(daohu::areas::AreaCode::parse)
        .transpose()
        .map_err(|m| anyhow::anyhow!("区划代码 / area code: {m}"))?;
    let chained = daohu::ledger::service::chain_until_idle(store).await?;
    if chained > 0 {
        println!("已入链 / chained: {chained} 条待入链记录");
    }
    let runner = format!("daohu verify (pid {})", std::process::id());
    let all = std::time::Instant::now();
    let mut problems = 0;
    let mut records = 0;
    let counties = daohu::ledger::service::counties_of(store, area.as_ref()).await?;
    for county in &counties {
        let start = std::time::Instant::now();
        let walked = daohu::ledger::service::verify_county(store, county, &runner).await?;
        records += walked.records;
        problems += walked.problems.len();
        let verdict = if walked.problems.is_empty() {
            "无异常 / clean".to_owned()
        } else {
            format!("{} 处问题 / problems", walked.problems.len())
        };
        println!(
            "{county}: {} 条记录 / records, 链头 / head #{} {} · {verdict} · {:.2} s",
            walked.records,
            walked.head.0,
            walked.head.1,
            start.elapsed().as_secs_f64()
        );
        for p in &walked.problems {
            println!("  {county} {p}");
        }
    }
    println!(
        "核验完成 / verified: {} 个县 / counties, {records} 条记录 / records, {problems} 处问题 / problems, {:.2} s",
        counties.len(),
        all.elapsed().as_secs_f64()
    );
    Ok(problems == 0)
}

async fn recompute_income(store: &dyn db::Store, area: Option<&str>) -> anyhow::Result<()> {
    use daohu::areas::{AreaCode, AreaLevel};
    use daohu::server::db::IncomeScope;
    let today = daohu::subsidies::china_date(chrono::Utc::now());
    let year = StatYear::containing(today).0;
    let area = area
        .map(AreaCode::parse)
        .transpose()
        .map_err(|m| anyhow::anyhow!("区划代码 / area code: {m}"))?;
    let scopes: Vec<AreaCode> = match &area {
        Some(a) if a.level() >= AreaLevel::County => vec![a.clone()],
        _ => store
            .areas_at_level(AreaLevel::County)
            .await?
            .into_iter()
            .filter(|c| area.as_ref().is_none_or(|a| a.contains(c)))
            .collect(),
    };
    let all = std::time::Instant::now();
    let mut households = 0;
    for scope in scopes {
        let start = std::time::Instant::now();
        let n = daohu::income::service::recompute(
            store,
            &IncomeScope::Area(scope.clone()),
            year,
            today,
            &[],
        )
        .await?;
        households += n;
        println!("{scope}: {n} 户 · {:.3} s", start.elapsed().as_secs_f64());
    }
    println!(
        "已重算 / recomputed: {households} 户, {year} 年度, {:.3} s",
        all.elapsed().as_secs_f64()
    );
    Ok(())
}
