//! Roster import through the router, on both backends: good files written
//! once, every kind of bad row refused with its place and nothing written,
//! files that are not rosters, access, and the templates.

mod common;

use axum::http::{StatusCode, header};
use common::{TestDb, call, import, sign_in, upload, year};
use daohu::roster::{ImportJob, ImportPhase, ImportReport, Problem, RosterKind};
use daohu::server::AppState;
use daohu::server::db::{Claim, ImportDone, JobClock, NewImportJob, Queued, RosterWrite};

const VILLAGE: &str = "621102100201";

fn done(job: &ImportJob) -> ImportReport {
    match &job.phase {
        ImportPhase::Done(r) => r.clone(),
        other => panic!("expected a finished import, got {other:?}"),
    }
}

fn refused(job: &ImportJob) -> Vec<(u32, String, String)> {
    match &job.phase {
        ImportPhase::Refused { problems, .. } => problems
            .iter()
            .map(|p: &Problem| (p.row, p.column.clone(), p.reason.clone()))
            .collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

const HEADER: &str = "户编号,所在村代码,户主姓名,户类型,监测类型,易地搬迁,联系电话,成员姓名,与户主关系,身份证号,劳动能力,健康状况";

fn households_csv() -> String {
    format!(
        "{HEADER}\n\
         T0001,{VILLAGE},王大山,脱贫户,,否,13800000001,王大山,户主,621102198001010018,普通劳动力,健康\n\
         T0001,{VILLAGE},王大山,脱贫户,,否,13800000001,李秀英,配偶,621102198505050021,弱劳动力,长期慢性病\n\
         T0002,{VILLAGE},赵小河,监测户,边缘易致贫户,是,,赵小河,户主,621102197003030042,丧失劳动力,残疾\n"
    )
}

async fn household_count(db: &TestDb) -> i64 {
    db.store.count_households().await.unwrap()
}

async fn a_households_file_is_written_once_and_re_importing_changes_nothing(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let before = household_count(&db).await;

    let job = import(
        &state,
        &county,
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    assert_eq!(job.kind, RosterKind::Households);
    assert_eq!(
        done(&job),
        ImportReport {
            rows: 3,
            added: 2,
            changed: 0,
            unchanged: 0,
            skipped: 0
        }
    );
    assert_eq!(household_count(&db).await, before + 2);
    let stored = db
        .store
        .households_by_numbers(&["T0001".into(), "T0002".into()])
        .await
        .unwrap();
    let t1 = stored.iter().find(|h| h.number == "T0001").unwrap();
    assert_eq!(t1.members.len(), 2);
    assert_eq!(t1.members[1].name, "李秀英");
    assert_eq!(t1.phone.as_deref(), Some("13800000001"));
    let t2 = stored.iter().find(|h| h.number == "T0002").unwrap();
    assert!(t2.relocated && t2.category.is_monitored());

    // The same file again: nothing to write.
    let again = import(
        &state,
        &county,
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    assert_eq!(done(&again).unchanged, 2);
    assert_eq!(done(&again).added + done(&again).changed, 0);
    assert_eq!(household_count(&db).await, before + 2);
    let same = db
        .store
        .households_by_numbers(&["T0001".into()])
        .await
        .unwrap();
    assert_eq!(same[0].id, t1.id);
    assert_eq!(same[0].members[0].id, t1.members[0].id);

    // Assigned to a worker, then re-imported with a change: the worker stays.
    let worker = db.store.user_by_username("worker1").await.unwrap().unwrap();
    db.store
        .assign_households(
            &daohu::server::db::AssignTarget::Household(t1.id),
            worker.id,
            worker.id,
        )
        .await
        .unwrap();

    // One member's labour changes: that household is updated, ids kept.
    let changed_csv = households_csv().replace(
        "李秀英,配偶,621102198505050021,弱劳动力",
        "李秀英,配偶,621102198505050021,普通劳动力",
    );
    let third = import(
        &state,
        &county,
        "households",
        "名单.csv",
        changed_csv.as_bytes(),
    )
    .await;
    assert_eq!((done(&third).changed, done(&third).unchanged), (1, 1));
    let after = db
        .store
        .households_by_numbers(&["T0001".into()])
        .await
        .unwrap();
    assert_eq!(after[0].id, t1.id);
    assert_eq!(after[0].members[1].id, t1.members[1].id);
    assert_eq!(
        after[0].members[1].labour,
        daohu::households::LabourStatus::Full
    );
    assert_eq!(after[0].worker_id, Some(worker.id), "the worker is kept");

    // Moved to another village: it waits there to be assigned (待分配).
    let moved = changed_csv.replace(&format!("T0001,{VILLAGE}"), "T0001,621102100202");
    assert_eq!(
        done(&import(&state, &county, "households", "名单.csv", moved.as_bytes()).await).changed,
        1
    );
    let after = db
        .store
        .households_by_numbers(&["T0001".into()])
        .await
        .unwrap();
    assert_eq!(after[0].village.as_str(), "621102100202");
    assert_eq!(after[0].worker_id, None);
    let audit = db.store.audit_events("roster.import").await.unwrap();
    assert_eq!(audit.len(), 4);
    assert!(audit.iter().all(|e| e.outcome.starts_with("imported")));
}

async fn every_kind_of_bad_household_row_is_named_and_nothing_is_written(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let before = household_count(&db).await;
    let long = "长".repeat(201);
    let csv = format!(
        "{HEADER}\n\
         B0001,{VILLAGE},钱一,脱贫户,,否,,钱一,户主,621102198001010019,普通劳动力,健康\n\
         B0002,620102100201,孙二,脱贫户,,否,,孙二,户主,621102198505050021,普通劳动力,健康\n\
         B0003,621102100299,周三,监测户,,否,,周三,户主,621102197003030042,普通劳动力,健康\n\
         B0004,{VILLAGE},吴四,脱贫户,,否,,吴四,户主,621102198505050021,能干活,健康\n\
         B0005,{VILLAGE},郑五,脱贫户,,否,,郑五,户主,621102197507070056,普通劳动力,健康\n\
         B0005,{VILLAGE},郑五,脱贫户,,否,,郑六,户主,621102199002020060,普通劳动力,健康\n\
         B0006,{VILLAGE},冯七,脱贫户,,否,,冯八,户主,621102201009090037,普通劳动力,健康\n\
         B0007,{VILLAGE},{long},脱贫户,,否,,陈九,户主,621102198001010018,普通劳动力,健康\n"
    );
    let job = import(&state, &county, "households", "坏名单.csv", csv.as_bytes()).await;
    let problems = refused(&job);
    let expect = |row: u32, column: &str, reason: &str| (row, column.to_owned(), reason.to_owned());
    assert_eq!(
        problems,
        vec![expect(
            9,
            "户主姓名",
            "单元格过长（201 个字，最多 200 个字）"
        )],
        "a huge cell stops the file before the rows are read"
    );

    let csv = csv.replace(&long, "陈九");
    let job = import(&state, &county, "households", "坏名单.csv", csv.as_bytes()).await;
    assert_eq!(
        refused(&job),
        vec![
            expect(2, "身份证号", "身份证号校验位错误，请核对"),
            expect(3, "所在村代码", "所在村不在本辖区（安定区）内"),
            expect(4, "所在村代码", "系统中没有村代码 621102100299"),
            expect(4, "监测类型", "监测户须填写监测类型"),
            expect(5, "身份证号", "与第3行的身份证号重复"),
            expect(
                5,
                "劳动能力",
                "“能干活”不是可选的值：应为 普通劳动力、弱劳动力、丧失劳动力、无劳动力"
            ),
            expect(
                7,
                "与户主关系",
                "户 B0005 已有户主（第6行），每户只能有一名户主"
            ),
            expect(8, "户主姓名", "户主姓名“冯七”与户主成员的姓名“冯八”不一致"),
        ]
    );
    assert_eq!(household_count(&db).await, before, "nothing written");
    let audit = db.store.audit_events("roster.import").await.unwrap();
    assert!(audit.iter().all(|e| e.outcome.starts_with("refused")));

    // A file wrong in every row: all its problems are counted, the first
    // that a page shows are kept.
    let rows: String = (0..600)
        .map(|i| format!("W{i:04},{VILLAGE},钱一,脱贫户,,否,,钱一,户主,坏号{i},普通劳动力,健康\n"))
        .collect();
    let job = import(
        &state,
        &county,
        "households",
        "坏.csv",
        format!("{HEADER}\n{rows}").as_bytes(),
    )
    .await;
    match &job.phase {
        ImportPhase::Refused { problems, total } => {
            assert_eq!((problems.len(), *total), (500, 600));
            assert_eq!(problems[0].row, 2);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn missing_or_unknown_columns_and_unreadable_files_are_refused(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let reasons = |job: &ImportJob| refused(job);

    let job = import(
        &state,
        &county,
        "households",
        "x.csv",
        "户编号,户主名字\nA,B\n".as_bytes(),
    )
    .await;
    let p = reasons(&job);
    assert_eq!(p[0].0, 1);
    assert_eq!(p[0].1, "户主名字");
    assert!(p[0].2.starts_with("不认识这一列"), "{}", p[0].2);
    assert!(p.contains(&(1, "身份证号".into(), "缺少这一列".into())));

    let job = import(
        &state,
        &county,
        "households",
        "图片.xlsx",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .await;
    assert_eq!(
        reasons(&job),
        vec![(0, String::new(), "不是 Excel（.xlsx）或 CSV 文件".into())]
    );
    let job = import(
        &state,
        &county,
        "households",
        "坏.xlsx",
        b"PK\x03\x04 truncated zip",
    )
    .await;
    assert!(reasons(&job)[0].2.starts_with("无法作为 Excel"));
    let job = import(&state, &county, "entitlements", "空.csv", b"").await;
    assert_eq!(reasons(&job), vec![(0, String::new(), "文件是空的".into())]);
}

async fn entitlements_are_checked_against_households_items_and_years(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    done(
        &import(
            &state,
            &county,
            "households",
            "名单.csv",
            households_csv().as_bytes(),
        )
        .await,
    );
    let y = year();
    let (first, last) = (y.first_day(), y.last_day());
    let header = "户编号,补贴项目,统计年度,应发金额（元）,应发日期,发放部门,发放渠道";
    let good = format!(
        "{header}\nT0001,农村低保,{y},3600,{last},县民政局,\nT0001,cropland_protection,{y},\"1,234.50\",{first},县农业农村局,银行转账\nT0002,农村低保,{y},1200.5,{last},县民政局,一卡通\n",
        y = y.0
    );
    let job = import(&state, &county, "entitlements", "应发.csv", good.as_bytes()).await;
    assert_eq!(done(&job).added, 3);
    let t1 = db
        .store
        .household_keys_by_numbers(&["T0001".into()])
        .await
        .unwrap()[0]
        .1;
    let lines = db.store.entitlements(t1, y.0).await.unwrap();
    let dibao = lines.iter().find(|l| l.item.code == "rural_dibao").unwrap();
    assert_eq!(dibao.entitlement.expected_fen, 360_000);
    assert_eq!(
        dibao.entitlement.channel,
        daohu::subsidies::Channel::OneCard,
        "the item's default"
    );
    let crop = lines
        .iter()
        .find(|l| l.item.code == "cropland_protection")
        .unwrap();
    assert_eq!(crop.entitlement.expected_fen, 123_450);
    assert_eq!(
        crop.entitlement.channel,
        daohu::subsidies::Channel::BankTransfer
    );

    let again = import(&state, &county, "entitlements", "应发.csv", good.as_bytes()).await;
    assert_eq!(
        done(&again),
        ImportReport {
            rows: 3,
            added: 0,
            changed: 0,
            unchanged: 3,
            skipped: 0
        }
    );

    let next_day = last.succ_opt().unwrap();
    let bad = format!(
        "{header}\n\
         NOPE,农村低保,{y},100,{last},县民政局,\n\
         T0001,不存在的补贴,{y},100,{last},县民政局,\n\
         T0001,农村低保,{y},12.345,{last},县民政局,\n\
         T0002,农村低保,{y},0,{last},县民政局,\n\
         T0002,耕地地力保护补贴,{y},100,{next_day},县农业农村局,\n\
         T0002,农村特困供养金,{y},100,{last},县民政局,微信\n\
         T0002,合作社分红,{y},100,{last},县农业农村局,\n\
         T0002,coop_dividend,{y},100,{last},县农业农村局,\n\
         T0002,村集体经济分红,1999,100,1999-01-01,,\n",
        y = y.0
    );
    let job = import(
        &state,
        &county,
        "entitlements",
        "应发错.csv",
        bad.as_bytes(),
    )
    .await;
    let p = refused(&job);
    let expect = |row: u32, column: &str, reason: String| (row, column.to_owned(), reason);
    assert_eq!(
        p,
        vec![
            expect(
                2,
                "户编号",
                "本辖区（安定区）没有这个户编号：请先导入农户名单".into()
            ),
            expect(3, "补贴项目", "补贴目录中没有“不存在的补贴”".into()),
            expect(
                4,
                "应发金额（元）",
                "“12.345”：金额最多两位小数（精确到分）".into()
            ),
            expect(5, "应发金额（元）", "应发金额应大于0".into()),
            expect(6, "应发日期", format!("{next_day} 不在{}内", y.label())),
            expect(
                7,
                "发放渠道",
                "“微信”不是可选的值：应为 一卡通、银行转账、现金、实物、代缴".into()
            ),
            expect(
                9,
                "补贴项目",
                "与第8行重复：同一户、同一项目、同一年度只能有一行".into()
            ),
            expect(
                10,
                "统计年度",
                format!("统计年度应在 2016 至 {} 之间", y.0 + 1)
            ),
            expect(10, "发放部门", "不能为空".into()),
        ]
    );
    assert_eq!(
        db.store.entitlements(t1, y.0).await.unwrap().len(),
        2,
        "nothing written"
    );
}

async fn amounts_beyond_the_bound_are_refused_as_text_or_number_and_nothing_is_written(db: TestDb) {
    use rust_xlsxwriter::Workbook;
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let job = import(
        &state,
        &county,
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    done(&job);
    let y = year();
    let last = y.last_day();
    let header = "户编号,补贴项目,统计年度,应发金额（元）,应发日期,发放部门,发放渠道";
    let amount = "应发金额（元）";
    let bad = format!(
        "{header}\n\
         T0001,农村低保,{y},100000000.01,{last},县民政局,\n\
         T0001,耕地地力保护补贴,{y},92233720368547758.07,{last},县农业农村局,\n\
         T0002,农村低保,{y},-1,{last},县民政局,\n",
        y = y.0
    );
    let job = import(&state, &county, "entitlements", "应发.csv", bad.as_bytes()).await;
    let p = refused(&job);
    assert_eq!(
        p.iter()
            .map(|(row, column, _)| (*row, column.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, amount), (3, amount), (4, amount)],
        "{p:?}"
    );
    assert!(
        p[0].2.contains("不能超过1亿元") && p[1].2.contains("不能超过1亿元"),
        "{p:?}"
    );

    // Excel numbers: beyond the bound, far beyond i64, and negative.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (i, h) in header.split(',').enumerate() {
        sheet.write_string(0, i as u16, h).unwrap();
    }
    for (r, (item, fen)) in [
        ("农村低保", 100_000_000.01),
        ("耕地地力保护补贴", 1e30),
        ("村集体经济分红", -5.0),
    ]
    .into_iter()
    .enumerate()
    {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, "T0001").unwrap();
        sheet.write_string(r, 1, item).unwrap();
        sheet.write_number(r, 2, f64::from(y.0)).unwrap();
        sheet.write_number(r, 3, fen).unwrap();
        sheet.write_string(r, 4, last.to_string()).unwrap();
        sheet.write_string(r, 5, "县民政局").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let p = refused(&import(&state, &county, "entitlements", "应发.xlsx", &bytes).await);
    assert_eq!(
        p.iter()
            .map(|(row, column, _)| (*row, column.as_str()))
            .collect::<Vec<_>>(),
        vec![(2, amount), (3, amount), (4, amount)],
        "{p:?}"
    );
    let keys = db
        .store
        .household_keys_by_numbers(&["T0001".into(), "T0002".into()])
        .await
        .unwrap();
    for (_, id, _) in &keys {
        assert!(
            db.store.entitlements(*id, y.0).await.unwrap().is_empty(),
            "nothing written"
        );
    }

    // The bound itself is a payment like any other.
    let good = format!(
        "{header}\nT0001,农村低保,{y},\"100,000,000.00\",{last},县民政局,\n",
        y = y.0
    );
    let job = import(&state, &county, "entitlements", "应发.csv", good.as_bytes()).await;
    assert_eq!(done(&job).added, 1);
    let t1 = keys.iter().find(|(n, _, _)| n == "T0001").unwrap().1;
    let stored = db.store.entitlements(t1, y.0).await.unwrap();
    assert_eq!(
        stored[0].entitlement.expected_fen,
        daohu::subsidies::Fen::MAX.0
    );
}

async fn an_xlsx_roster_is_read_with_its_numbers_and_dates(db: TestDb) {
    use rust_xlsxwriter::{Format, Workbook};
    let db = db.with_demo().await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (i, h) in HEADER.split(',').enumerate() {
        sheet.write_string(0, i as u16, h).unwrap();
    }
    let row = [
        "X0001",
        VILLAGE,
        "王大山",
        "脱贫户",
        "",
        "否",
        "",
        "王大山",
        "户主",
        "621102198001010018",
        "普通劳动力",
        "健康",
    ];
    for (i, v) in row.iter().enumerate() {
        sheet.write_string(1, i as u16, *v).unwrap();
    }
    // The classic mistake: an ID number typed into a number cell.
    sheet.write_string(2, 0, "X0001").unwrap();
    sheet.write_number(2, 1, 621_102_100_201.0).unwrap();
    for (i, v) in ["王大山", "脱贫户", "", "否", "", "王小山", "子"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, i as u16 + 2, *v).unwrap();
    }
    sheet.write_number(2, 9, 621_102_201_009_090_037.0).unwrap();
    sheet.write_string(2, 10, "无劳动力").unwrap();
    sheet.write_string(2, 11, "健康").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let job = import(&state, &county, "households", "名单.xlsx", &bytes).await;
    assert_eq!(
        refused(&job),
        vec![(
            3,
            "身份证号".into(),
            "Excel 把身份证号存成了数字，末几位已丢失：请把这一列设为文本格式后重新填写".into()
        )],
        "a village code as a whole number is fine, an ID number is not"
    );

    // Fixed, with entitlements whose amounts and dates are Excel numbers and dates.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (i, h) in HEADER.split(',').enumerate() {
        sheet.write_string(0, i as u16, h).unwrap();
    }
    for (i, v) in row.iter().enumerate() {
        sheet.write_string(1, i as u16, *v).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    assert_eq!(
        done(&import(&state, &county, "households", "名单.xlsx", &bytes).await).added,
        1
    );

    let y = year();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (i, h) in [
        "户编号",
        "补贴项目",
        "统计年度",
        "应发金额（元）",
        "应发日期",
        "发放部门",
        "发放渠道",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, i as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_string(1, 0, "X0001").unwrap();
    sheet.write_string(1, 1, "农村低保").unwrap();
    sheet.write_number(1, 2, f64::from(y.0)).unwrap();
    sheet.write_number(1, 3, 1200.1).unwrap();
    sheet
        .write_datetime_with_format(
            1,
            4,
            rust_xlsxwriter::ExcelDateTime::parse_from_str(&y.last_day().to_string()).unwrap(),
            &date,
        )
        .unwrap();
    sheet.write_string(1, 5, "县民政局").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert_eq!(
        done(&import(&state, &county, "entitlements", "应发.xlsx", &bytes).await).added,
        1
    );
    let id = db
        .store
        .household_keys_by_numbers(&["X0001".into()])
        .await
        .unwrap()[0]
        .1;
    let line = &db.store.entitlements(id, y.0).await.unwrap()[0].entitlement;
    assert_eq!(
        (line.expected_fen, line.expected_date),
        (120_010, y.last_day())
    );
}

async fn only_county_offices_and_above_import_and_only_they_see_their_job(db: TestDb) {
    let db = db.with_demo().await;
    let state = db.state();
    let r = upload(
        &state,
        None,
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/login");
    for user in ["township1", "worker1"] {
        let cookie = sign_in(&state, user).await;
        let r = upload(
            &state,
            Some(&cookie),
            "households",
            "名单.csv",
            households_csv().as_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
    }
    let refused = db.store.audit_events("roster.import").await.unwrap();
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|e| e.outcome == "forbidden"));

    let county = sign_in(&state, "county").await;
    let r = upload(
        &state,
        Some(&county),
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    let id = r.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let other = sign_in(&state, "township1").await;
    let r = call(&state, Some(&other), "/api/roster/job", &[("id", &id)]).await;
    assert_eq!(r.body, "null", "another user cannot read the job");
    let r = call(
        &state,
        Some(&county),
        "/api/roster/job",
        &[("id", &uuid::Uuid::now_v7().to_string())],
    )
    .await;
    assert_eq!(
        r.body, "null",
        "an unknown job (server restarted) is said to be unknown"
    );
}

async fn templates_hold_exactly_the_columns_the_import_reads(db: TestDb) {
    use calamine::{Reader, Xlsx};
    let state = db.state();
    for kind in RosterKind::ALL {
        let r = common::page(&state, None, &daohu::roster::template_href(kind, "xlsx")).await;
        assert_eq!(r.status, StatusCode::OK);
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(r.bytes)).unwrap();
        assert_eq!(book.sheet_names(), [kind.label(), "填写说明"]);
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        let headers: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let expected: Vec<&str> = kind.columns().iter().map(|c| c.header).collect();
        assert_eq!(headers, expected);
        let r = common::page(&state, None, &daohu::roster::template_href(kind, "csv")).await;
        assert_eq!(r.body, format!("\u{FEFF}{}\r\n", expected.join(",")));
    }
}

/// The demo county written as the two import files, imported into a
/// database holding only its areas and people, comes back whole.
async fn the_demo_roster_files_import_whole(db: TestDb) {
    use daohu::demo::{self, DemoSpec};
    let spec = DemoSpec {
        households: 120,
        seed: 5,
        year: year(),
    };
    let data = demo::generate(&spec);
    demo::load_places_and_people(db.store.as_ref(), &data)
        .await
        .unwrap();
    let items = db.store.subsidy_items().await.unwrap();
    let (households, entitlements) = demo::roster::csv_files(&data, &items);
    let state = db.state();
    let county = sign_in(&state, "county").await;
    let report = done(
        &import(
            &state,
            &county,
            "households",
            "households.csv",
            households.as_bytes(),
        )
        .await,
    );
    assert_eq!(report.added as usize, data.households.len());
    let report = done(
        &import(
            &state,
            &county,
            "entitlements",
            "entitlements.csv",
            entitlements.as_bytes(),
        )
        .await,
    );
    assert_eq!(report.added as usize, data.entitlements.len());

    let numbers: Vec<String> = data.households.iter().map(|h| h.number.clone()).collect();
    let stored = db.store.households_by_numbers(&numbers).await.unwrap();
    assert_eq!(stored.len(), data.households.len());
    for h in &data.households {
        let s = stored.iter().find(|s| s.number == h.number).unwrap();
        assert_eq!(
            (&s.head_name, s.category, s.relocated, &s.village, &s.phone),
            (&h.head_name, h.category, h.relocated, &h.village, &h.phone)
        );
        let people = |h: &daohu::server::db::HouseholdRecord| {
            h.members
                .iter()
                .map(|m| {
                    (
                        m.name.clone(),
                        m.relation.clone(),
                        m.id_number.clone(),
                        m.labour,
                        m.health,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(people(s), people(h), "{}", h.number);
    }
    let ids: Vec<uuid::Uuid> = stored.iter().map(|s| s.id).collect();
    let mut lines: Vec<(String, String, i64, chrono::NaiveDate)> = db
        .store
        .entitlements_of_households(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let n = stored
                .iter()
                .find(|s| s.id == e.household_id)
                .unwrap()
                .number
                .clone();
            (n, e.item_code, e.expected_fen, e.expected_date)
        })
        .collect();
    let mut expected: Vec<(String, String, i64, chrono::NaiveDate)> = data
        .entitlements
        .iter()
        .map(|e| {
            let n = data
                .households
                .iter()
                .find(|h| h.id == e.household_id)
                .unwrap()
                .number
                .clone();
            (n, e.item_code.clone(), e.expected_fen, e.expected_date)
        })
        .collect();
    lines.sort();
    expected.sort();
    assert_eq!(lines, expected);

    // The dispatch table's roll-up follows the import.
    let county = daohu::areas::AreaCode::parse("621102000000").unwrap();
    let due: i64 = db
        .store
        .dispatch_due(&county, year().0)
        .await
        .unwrap()
        .iter()
        .map(|f| f.progress.due)
        .sum();
    let this_year = data
        .entitlements
        .iter()
        .filter(|e| e.stat_year == year().0)
        .count();
    assert_eq!(due as usize, this_year);
}

/// A valid 18-digit ID number from its first 17 digits (ISO 7064 MOD 11-2).
fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Another county (兰州市城关区) with one household in it, as the other
/// county's office imported it.
async fn a_foreign_household(db: &TestDb) -> daohu::server::db::HouseholdRecord {
    use daohu::areas::{Area, AreaCode};
    use daohu::households::{Category, HealthStatus, LabourStatus};
    use daohu::server::db::{HouseholdRecord, MemberRecord, RosterWrite};
    let area = |code: &str, name: &str| Area {
        code: AreaCode::parse(code).unwrap(),
        name: name.into(),
    };
    db.store
        .upsert_areas(&[
            area("620100000000", "兰州市"),
            area("620102000000", "城关区"),
            area("620102100000", "外县街道"),
            area("620102100201", "外县村"),
        ])
        .await
        .unwrap();
    let member = |name: &str, relation: &str, id: String| MemberRecord {
        id: uuid::Uuid::now_v7(),
        name: name.into(),
        relation: relation.into(),
        id_number: id,
        labour: LabourStatus::Full,
        health: HealthStatus::Healthy,
    };
    let household = HouseholdRecord {
        id: uuid::Uuid::now_v7(),
        number: "6201021002010001".into(),
        head_name: "外县甲".into(),
        category: Category::Alleviated,
        relocated: false,
        village: AreaCode::parse("620102100201").unwrap(),
        worker_id: None,
        phone: Some("13900000009".into()),
        members: vec![
            member("外县甲", "户主", id_number("62010219800101001")),
            member("外县乙", "配偶", id_number("62010219820202002")),
        ],
    };
    db.store
        .apply_roster(
            &RosterWrite {
                households: vec![household.clone()],
                ..RosterWrite::default()
            },
            &|_| {},
            None,
        )
        .await
        .unwrap();
    household
}

/// Nothing of another county comes back in an import's problems: not its
/// household numbers, village codes, place or people's names, and a number
/// of another county reads exactly as one that does not exist wherever
/// the two need not differ. Only the importer's own households are named.
async fn imports_name_nothing_outside_the_importers_area(db: TestDb) {
    let db = db.with_demo().await;
    let foreign = a_foreign_household(&db).await;
    let state = db.state();
    let county = sign_in(&state, "county").await;
    done(
        &import(
            &state,
            &county,
            "households",
            "名单.csv",
            households_csv().as_bytes(),
        )
        .await,
    );
    let before = household_count(&db).await;
    let (f_head, f_spouse) = (&foreign.members[0].id_number, &foreign.members[1].id_number);
    let fresh = id_number("62110219900101003");
    // Row 2: the other county's household number, with its head's ID
    // number (were a household of another area to excuse its own members,
    // the problems would tell whether this ID number is in it).
    // Row 3: the other county's spouse's ID number in a new household.
    // Row 4: a village of the other county. Row 5: a person of one of the
    // importer's own households that this file does not list.
    let csv = format!(
        "{HEADER}\n\
         6201021002010001,{VILLAGE},外县甲,脱贫户,,否,,外县甲,户主,{f_head},普通劳动力,健康\n\
         N0001,{VILLAGE},钱一,脱贫户,,否,,钱一,户主,{f_spouse},普通劳动力,健康\n\
         N0002,620102100201,孙二,脱贫户,,否,,孙二,户主,{fresh},普通劳动力,健康\n\
         N0003,{VILLAGE},王大山,脱贫户,,否,,王大山,户主,621102198001010018,普通劳动力,健康\n"
    );
    let job = import(&state, &county, "households", "跨县.csv", csv.as_bytes()).await;
    let outside_household = daohu::roster::service::OUTSIDE_HOUSEHOLD;
    let outside_id = daohu::roster::service::OUTSIDE_ID_NUMBER;
    let expect = |row: u32, column: &str, reason: &str| (row, column.to_owned(), reason.to_owned());
    assert_eq!(
        refused(&job),
        vec![
            expect(2, "户编号", outside_household),
            expect(2, "身份证号", outside_id),
            expect(3, "身份证号", outside_id),
            expect(4, "所在村代码", "所在村不在本辖区（安定区）内"),
            expect(
                5,
                "身份证号",
                "该身份证号已登记在户 T0001，而该户不在本文件中"
            ),
        ]
    );
    let foreign_strings = [
        "6201021002010001",
        "620102100201",
        "620102",
        "城关区",
        "兰州",
        "外县村",
        "外县街道",
        "外县甲",
        "外县乙",
        "13900000009",
    ];
    let shown = serde_json::to_string(&job).unwrap();
    for s in foreign_strings {
        assert!(
            !refused(&job)
                .iter()
                .any(|(_, _, reason)| reason.contains(s)),
            "a problem names {s}"
        );
        // The job echoes the file's own rows nowhere but in its problems.
        assert!(!shown.contains(s), "the job names {s}: {shown}");
    }
    assert_eq!(household_count(&db).await, before, "nothing written");
    let still = db
        .store
        .households_by_numbers(std::slice::from_ref(&foreign.number))
        .await
        .unwrap();
    assert_eq!(still[0].head_name, "外县甲");
    assert_eq!(
        still[0].members.len(),
        2,
        "the other county's household is untouched"
    );
    let audit = db.store.audit_events("roster.import").await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.outcome == "refused problems=5 outside=3"),
        "{audit:?}"
    );

    // Payments: another county's household and one that exists nowhere get
    // one and the same sentence.
    let y = year();
    let last = y.last_day();
    let csv = format!(
        "户编号,补贴项目,统计年度,应发金额（元）,应发日期,发放部门,发放渠道\n\
         6201021002010001,农村低保,{y},100,{last},县民政局,\n\
         6201021002019999,农村低保,{y},100,{last},县民政局,\n",
        y = y.0
    );
    let job = import(
        &state,
        &county,
        "entitlements",
        "跨县应发.csv",
        csv.as_bytes(),
    )
    .await;
    let problems = refused(&job);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(
        problems[0].2, problems[1].2,
        "an existing foreign household reads as none"
    );
    assert_eq!(
        problems[0].2,
        "本辖区（安定区）没有这个户编号：请先导入农户名单"
    );
    let shown = serde_json::to_string(&job).unwrap();
    for s in foreign_strings {
        assert!(!shown.contains(s), "the job names {s}: {shown}");
    }
    assert!(
        db.store
            .entitlements_of_households(&[foreign.id])
            .await
            .unwrap()
            .is_empty()
    );
}

/// Files built to exhaust the reader, as an attacker would write them: each
/// needs no more than its few bytes to fill memory with what it claims.
mod hostile {
    use flate2::{Compress, Compression, Crc, FlushCompress};

    pub enum Data {
        Stored(Vec<u8>),
        Deflated { raw: Vec<u8>, crc: u32, size: u32 },
    }

    /// `head`, then `chunk` `times` over, then `tail`, deflated without
    /// ever holding the whole: each piece ends on a full flush, which
    /// forgets the history, so the chunk's compressed bytes repeat too.
    pub fn deflated(head: &str, chunk: &str, times: usize, tail: &str) -> Data {
        let mut z = Compress::new(Compression::new(9), false);
        let mut piece = |input: &[u8], flush| {
            let mut out = Vec::with_capacity(input.len() + 1024);
            let before = z.total_in();
            z.compress_vec(input, &mut out, flush).unwrap();
            assert_eq!(z.total_in() - before, input.len() as u64);
            out
        };
        let head_z = piece(head.as_bytes(), FlushCompress::Full);
        let chunk_z = piece(chunk.as_bytes(), FlushCompress::Full);
        assert_eq!(
            piece(chunk.as_bytes(), FlushCompress::Full),
            chunk_z,
            "a chunk deflates the same each time"
        );
        let tail_z = piece(tail.as_bytes(), FlushCompress::Finish);
        let mut raw = head_z;
        let mut crc = Crc::new();
        crc.update(head.as_bytes());
        for _ in 0..times {
            raw.extend_from_slice(&chunk_z);
            crc.update(chunk.as_bytes());
        }
        raw.extend_from_slice(&tail_z);
        crc.update(tail.as_bytes());
        let size = (head.len() + chunk.len() * times + tail.len()) as u32;
        Data::Deflated {
            raw,
            crc: crc.sum(),
            size,
        }
    }

    /// A zip archive of `entries`, written field by field.
    pub fn archive(entries: Vec<(&str, Data)>) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        let n = entries.len() as u16;
        for (name, data) in entries {
            let (method, crc, size, raw) = match data {
                Data::Stored(bytes) => {
                    let mut c = Crc::new();
                    c.update(&bytes);
                    (0u16, c.sum(), bytes.len() as u32, bytes)
                }
                Data::Deflated { raw, crc, size } => (8u16, crc, size, raw),
            };
            let offset = out.len() as u32;
            let fields = |out: &mut Vec<u8>| {
                out.extend(20u16.to_le_bytes()); // version needed
                out.extend(0u16.to_le_bytes()); // flags
                out.extend(method.to_le_bytes());
                out.extend(0u16.to_le_bytes()); // time
                out.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
                out.extend(crc.to_le_bytes());
                out.extend((raw.len() as u32).to_le_bytes());
                out.extend(size.to_le_bytes());
                out.extend((name.len() as u16).to_le_bytes());
                out.extend(0u16.to_le_bytes()); // extra
            };
            out.extend(0x0403_4b50u32.to_le_bytes());
            fields(&mut out);
            out.extend(name.as_bytes());
            out.extend(&raw);
            central.extend(0x0201_4b50u32.to_le_bytes());
            central.extend(20u16.to_le_bytes()); // made by
            fields(&mut central);
            central.extend([0u8; 8]); // comment, disk, internal and external attributes
            central.extend([0u8; 2]);
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let at = out.len() as u32;
        out.extend(&central);
        out.extend(0x0605_4b50u32.to_le_bytes());
        out.extend([0u8; 4]);
        out.extend(n.to_le_bytes());
        out.extend(n.to_le_bytes());
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(at.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    /// A minimal workbook around `sheet`, with `more` parts (shared
    /// strings, styles) related to it.
    pub fn workbook(sheet: Data, more: Vec<(&str, Data)>) -> Vec<u8> {
        let stored = |s: String| Data::Stored(s.into_bytes());
        let mut rels = format!(
            "<Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{DOC}/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
        );
        for (i, (name, _)) in more.iter().enumerate() {
            let kind = if name.contains("sharedStrings") {
                "sharedStrings"
            } else {
                "styles"
            };
            let target = name.trim_start_matches("xl/");
            rels += &format!(
                "<Relationship Id=\"rId{}\" Type=\"{DOC}/{kind}\" Target=\"{target}\"/>",
                i + 2
            );
        }
        rels += "</Relationships>";
        let mut entries = vec![
            (
                "[Content_Types].xml",
                stored("<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>".into()),
            ),
            (
                "_rels/.rels",
                stored(format!(
                    "<Relationships xmlns=\"{RELS}\"><Relationship Id=\"rId1\" Type=\"{DOC}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
                )),
            ),
            (
                "xl/workbook.xml",
                stored(format!(
                    "<workbook xmlns=\"{MAIN}\" xmlns:r=\"{DOC}\"><sheets><sheet name=\"名单\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
                )),
            ),
            ("xl/_rels/workbook.xml.rels", stored(rels)),
            ("xl/worksheets/sheet1.xml", sheet),
        ];
        entries.extend(more);
        archive(entries)
    }

    pub fn sheet(rows: &str) -> String {
        format!("<worksheet xmlns=\"{MAIN}\"><sheetData>{rows}</sheetData></worksheet>")
    }
}

/// The same as [`upload`] and [`import`], but to a server process over a
/// socket, so the process's memory can be read.
async fn import_over_socket(
    addr: std::net::SocketAddr,
    cookie: &str,
    kind: &str,
    file: &str,
    bytes: &[u8],
) -> ImportJob {
    use common::raw_http;
    use tokio::net::TcpStream;
    let boundary = "----daohu-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let reply = raw_http::post(
        &mut conn,
        "/roster/upload",
        cookie,
        &format!("multipart/form-data; boundary={boundary}"),
        &body,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 303, "{}", reply.body);
    let location = reply
        .headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap()
        .trim()
        .to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    for _ in 0..1200 {
        let reply = raw_http::post(
            &mut conn,
            "/api/roster/job",
            cookie,
            "application/x-www-form-urlencoded",
            format!("id={id}").as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        let job: Option<ImportJob> = serde_json::from_str(&reply.body).unwrap();
        let job = job.expect("the importer sees their job");
        if job.phase.is_finished() {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

/// Peak resident memory of a process so far (VmHWM), in MiB.
fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// The peak memory a hostile file may add to the server's, in MiB.
const HOSTILE_RSS_BOUND_MIB: f64 = 150.0;

/// Each file that once took the server down (a used range of 17 billion
/// cells; archives that inflate to hundreds of MB; megabytes of blank
/// lines; one endless line) is refused with a sentence naming the limit
/// it crossed, the server's peak memory stays within
/// [`HOSTILE_RSS_BOUND_MIB`] of what an ordinary import takes, and the
/// server goes on serving.
async fn hostile_files_are_refused_while_read_and_the_server_stays_up(db: TestDb) {
    use hostile::{Data, deflated, sheet, workbook};
    use tokio::process::Command;
    let db = db.with_demo().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let site = common::tempdir::TempDir::new();
    let mut server = Command::new(env!("CARGO_BIN_EXE_daohu"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("DAOHU_ADDR", addr.to_string())
        .env("DAOHU_SITE_ROOT", &site.0)
        .env("RUST_LOG", "error")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start daohu serve");
    let pid = server.id().unwrap();
    let sign_in = || async {
        for _ in 0..600 {
            if let Ok(mut c) = tokio::net::TcpStream::connect(addr).await {
                let body = format!("username=county&password={}", daohu::demo::DEMO_PASSWORD);
                if let Ok(r) = common::raw_http::post(
                    &mut c,
                    "/api/auth/sign_in",
                    "",
                    "application/x-www-form-urlencoded",
                    body.as_bytes(),
                )
                .await
                {
                    return common::raw_http::session_cookie(&r).expect("signed in");
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("server did not come up on {addr}");
    };
    let cookie = sign_in().await;

    // An ordinary import first: the peak it leaves is the baseline.
    let good = households_csv();
    done(&import_over_socket(addr, &cookie, "households", "名单.csv", good.as_bytes()).await);
    let baseline = peak_mib(pid);

    let cell =
        |r: &str, text: &str| format!("<c r=\"{r}\" t=\"inlineStr\"><is><t>{text}</t></is></c>");
    let sparse = workbook(
        Data::Stored(
            format!(
                "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
                 <dimension ref=\"A1:XFD1048576\"/><sheetData>\
                 <row r=\"1\">{}</row><row r=\"1048576\"><c r=\"XFD1048576\"><v>1</v></c></row>\
                 </sheetData></worksheet>",
                cell("A1", "户编号")
            )
            .into_bytes(),
        ),
        vec![],
    );
    const MB: usize = 1 << 20;
    let header_row = format!("<row r=\"1\">{}</row>", cell("A1", "户编号"));
    // 300 MiB of shared strings, declaring a count no memory holds.
    let si = "<si><t>x</t></si>".repeat(MB / 17);
    let strings_bomb = workbook(
        Data::Stored(sheet(&header_row).into_bytes()),
        vec![(
            "xl/sharedStrings.xml",
            deflated(
                "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" uniqueCount=\"99999999999\">",
                &si,
                300,
                "</sst>",
            ),
        )],
    );
    // 300 MiB of styles that are nothing but comments.
    let styles_bomb = workbook(
        Data::Stored(sheet(&header_row).into_bytes()),
        vec![(
            "xl/styles.xml",
            deflated(
                "<styleSheet>",
                &"<!---->".repeat(MB / 7),
                300,
                "</styleSheet>",
            ),
        )],
    );
    // A sheet whose one cell's value is 300 MiB of digits.
    let cell_bomb = workbook(
        deflated(
            &format!("<worksheet><sheetData>{header_row}<row r=\"2\"><c r=\"A2\"><v>"),
            &"9".repeat(MB),
            300,
            "</v></c></row></sheetData></worksheet>",
        ),
        vec![],
    );
    let newlines = format!("户编号\n{}", "\n".repeat(4 * MB));
    let endless_line = format!("户编号,户主姓名\n1,{}", "长".repeat(16 * MB / 3));
    let endless_row = format!("户编号\n{}x", ",".repeat(16 * MB));

    let cases: Vec<(&str, Vec<u8>, (u32, String))> = vec![
        (
            "稀疏.xlsx",
            sparse,
            (
                1_048_576,
                "第 16384 列有内容，超出了一行最多 64 列的范围：请删去多余的列".into(),
            ),
        ),
        (
            "字符串炸弹.xlsx",
            strings_bomb,
            (
                0,
                "Excel 文件中的共享字符串超过 1000000 个：请分批导入".into(),
            ),
        ),
        (
            "样式炸弹.xlsx",
            styles_bomb,
            (
                0,
                "Excel 文件中的样式表解压后超过 32 MiB：请分批导入".into(),
            ),
        ),
        (
            "单元格炸弹.xlsx",
            cell_bomb,
            (
                0,
                "Excel 文件的工作表中有一段超过 64 KiB 的内容：文件已损坏，或不是 Excel 工作簿"
                    .into(),
            ),
        ),
        (
            "换行.csv",
            newlines.into_bytes(),
            (1, "只有表头，没有数据行".into()),
        ),
        (
            "长行.csv",
            endless_line.into_bytes(),
            (
                2,
                format!("单元格过长（{} 个字，最多 200 个字）", 16 * MB / 3),
            ),
        ),
        (
            "宽行.csv",
            endless_row.into_bytes(),
            (
                2,
                format!(
                    "第 {} 列有内容，超出了一行最多 64 列的范围：请删去多余的列",
                    16 * MB + 1
                ),
            ),
        ),
    ];
    eprintln!("baseline peak after an ordinary import: {baseline:.0} MiB");
    for (name, bytes, (row, reason)) in cases {
        let started = std::time::Instant::now();
        let job = import_over_socket(addr, &cookie, "households", name, &bytes).await;
        let problems = refused(&job);
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.0, p.2.clone()))
                .collect::<Vec<_>>(),
            vec![(row, reason)],
            "{name}"
        );
        let peak = peak_mib(pid);
        eprintln!(
            "{name}: {} KiB uploaded, refused in {:.1} s, server peak {peak:.0} MiB (+{:.0})",
            bytes.len() / 1024,
            started.elapsed().as_secs_f64(),
            peak - baseline
        );
        assert!(
            peak - baseline < HOSTILE_RSS_BOUND_MIB,
            "{name} took the server's peak memory from {baseline:.0} to {peak:.0} MiB"
        );
        assert!(server.try_wait().unwrap().is_none(), "the server is alive");
    }
    // Still serving, and still importing.
    let again = import_over_socket(addr, &cookie, "households", "名单.csv", good.as_bytes()).await;
    assert_eq!(done(&again).unchanged, 2);
    server.start_kill().unwrap();
}

// ---- import jobs across instances -------------------------------------

/// A second server instance on the same database: its own store (own
/// connection pool) and router, as another process would have.
async fn second_instance(db: &TestDb) -> AppState {
    let store = daohu::server::db::connect(&db.url)
        .await
        .expect("second store");
    AppState::new(daohu::server::config::Config::for_database(&db.url), store)
}

/// Uploads through `state` and returns the job's id from the redirect.
async fn upload_id(state: &AppState, cookie: &str, kind: &str, file: &str, bytes: &[u8]) -> String {
    let r = upload(state, Some(cookie), kind, file, bytes).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    location.rsplit('/').next().unwrap().to_owned()
}

/// The job as its page reads it through `state`.
async fn read_job(state: &AppState, cookie: &str, id: &str) -> Option<ImportJob> {
    let r = call(state, Some(cookie), "/api/roster/job", &[("id", id)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// Polls through `state` until the job has finished.
async fn finished_job(state: &AppState, cookie: &str, id: &str) -> ImportJob {
    for _ in 0..1500 {
        let job = read_job(state, cookie, id)
            .await
            .expect("the importer sees their job");
        if job.phase.is_finished() {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("import {id} did not finish");
}

/// The county's scope, as its imports claim it.
const COUNTY_SCOPE: &str = "621102";

/// A job of the county office queued (and, with `run`, claimed) at `clock`
/// straight through the store: an import held by some other instance.
async fn held_job(db: &TestDb, clock: JobClock, run: bool) -> uuid::Uuid {
    let owner = db.store.user_by_username("county").await.unwrap().unwrap();
    let id = uuid::Uuid::now_v7();
    let job = NewImportJob {
        id,
        owner_id: owner.id,
        kind: RosterKind::Households,
        file_name: "别处.csv",
        area_name: "安定区",
        scope: COUNTY_SCOPE,
        runner: "elsewhere:1",
    };
    let queued = db
        .store
        .queue_import_job(&job, 100, clock, clock.now - chrono::Duration::hours(6))
        .await
        .unwrap();
    assert_eq!(queued, Queued::Yes);
    if run {
        assert_eq!(
            db.store.claim_import_job(id, clock).await.unwrap(),
            Claim::Claimed
        );
    }
    id
}

fn clock_at(ago: chrono::Duration) -> JobClock {
    let now = chrono::Utc::now() - ago;
    JobClock {
        now,
        stale_before: now - chrono::Duration::seconds(30),
    }
}

/// Keeps a held job's heartbeat going, as its instance would, until dropped.
struct Beating(tokio::task::JoinHandle<()>);
impl Drop for Beating {
    fn drop(&mut self) {
        self.0.abort();
    }
}
fn keep_beating(db: &TestDb, id: uuid::Uuid) -> Beating {
    let store = db.store.clone();
    Beating(tokio::spawn(async move {
        loop {
            let _ = store.beat_import_job(id, None, chrono::Utc::now()).await;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }))
}

async fn an_import_started_on_one_instance_is_followed_on_another_and_only_by_its_owner(
    db: TestDb,
) {
    let db = db.with_demo().await;
    let a = db.state();
    let b = second_instance(&db).await;
    let county = sign_in(&a, "county").await;
    let id = upload_id(
        &a,
        &county,
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    // Every poll through the other instance knows the job, to its end.
    let job = finished_job(&b, &county, &id).await;
    assert_eq!(job.file, "名单.csv");
    assert_eq!(job.area_name, "安定区");
    assert_eq!(done(&job).added, 2);
    assert_eq!(
        read_job(&a, &county, &id).await,
        Some(job.clone()),
        "both instances answer alike"
    );

    // A refusal's problems are kept for the page on every instance.
    let bad = households_csv().replace("621102198001010018", "621102198001010019");
    let id_bad = upload_id(&b, &county, "households", "坏.csv", bad.as_bytes()).await;
    let refused_job = finished_job(&a, &county, &id_bad).await;
    match &refused_job.phase {
        ImportPhase::Refused { problems, total } => {
            assert_eq!(*total as usize, problems.len());
            assert!(problems.iter().all(|p| p.file == "坏.csv"));
            assert!(
                problems.iter().any(|p| p.column == "身份证号"),
                "{problems:?}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }

    // Another user, on either instance, finds nothing, exactly as for an
    // id that does not exist.
    let other = sign_in(&b, "township1").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for state in [&a, &b] {
        for job in [&id, &id_bad, &unknown] {
            let r = call(state, Some(&other), "/api/roster/job", &[("id", job)]).await;
            assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "null"));
        }
        let r = call(state, Some(&county), "/api/roster/job", &[("id", &unknown)]).await;
        assert_eq!(r.body, "null");
    }
}

async fn imports_of_one_county_run_one_at_a_time_across_instances(db: TestDb) {
    let db = db.with_demo().await;
    let a = db.state();
    let b = second_instance(&db).await;
    let county = sign_in(&a, "county").await;
    // A third instance holds the county: both uploads must wait for it.
    let held = held_job(&db, clock_at(chrono::Duration::zero()), true).await;
    let _beat = keep_beating(&db, held);
    let first = upload_id(
        &a,
        &county,
        "households",
        "一.csv",
        households_csv().as_bytes(),
    )
    .await;
    // The second file builds on the first: T0001 changed, T0002 as it is,
    // T0003 new. Checked before the first was written it would find three
    // new households and collide with the first's on writing.
    let second_csv = format!(
        "{}T0003,{VILLAGE},孙三,脱贫户,,否,,孙三,户主,621102197003030069,普通劳动力,健康\n",
        households_csv().replace("13800000001", "13800000009")
    );
    let second = upload_id(&b, &county, "households", "二.csv", second_csv.as_bytes()).await;
    for _ in 0..10 {
        for (state, id) in [(&a, &first), (&b, &first), (&a, &second), (&b, &second)] {
            let job = read_job(state, &county, id).await.unwrap();
            assert_eq!(
                job.phase,
                ImportPhase::Queued,
                "waits while another import holds the county"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(household_count(&db).await, 200);
    assert!(
        db.store
            .finish_import_job(
                held,
                &ImportPhase::Failed("测试".into()),
                chrono::Utc::now()
            )
            .await
            .unwrap()
    );
    let one = finished_job(&b, &county, &first).await;
    let two = finished_job(&a, &county, &second).await;
    assert_eq!(done(&one).added, 2);
    let report = done(&two);
    assert_eq!(
        (report.added, report.changed, report.unchanged),
        (1, 1, 1),
        "{report:?}"
    );
    assert_eq!(household_count(&db).await, 203);
    // First come, first served, and the second began only after the first
    // had finished.
    let owner = db
        .store
        .user_by_username("county")
        .await
        .unwrap()
        .unwrap()
        .id;
    let row = |id: &str| {
        let store = db.store.clone();
        let id = uuid::Uuid::parse_str(id).unwrap();
        async move {
            store
                .import_job(id, owner, daohu::roster::jobs::clock())
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (one, two) = (row(&first).await, row(&second).await);
    assert!(
        one.finished_at.unwrap() <= two.started_at.unwrap(),
        "{one:?} overlapped {two:?}"
    );
}

async fn a_job_whose_instance_died_ends_failed_never_running(db: TestDb) {
    let db = db.with_demo().await;
    let a = db.state();
    let b = second_instance(&db).await;
    let county = sign_in(&a, "county").await;
    let long_ago = clock_at(chrono::Duration::minutes(2));
    // An instance died while running an import, and another while one of
    // its uploads waited.
    let running = held_job(&db, long_ago, true).await;
    let waiting = held_job(&db, long_ago, false).await;
    let job = read_job(&b, &county, &running.to_string()).await.unwrap();
    assert_eq!(
        job.phase,
        ImportPhase::Failed(daohu::text::zh::IMPORT_INTERRUPTED.into())
    );
    // The next upload is not held up by either: it sweeps them and runs.
    let id = upload_id(
        &a,
        &county,
        "households",
        "名单.csv",
        households_csv().as_bytes(),
    )
    .await;
    assert_eq!(done(&finished_job(&b, &county, &id).await).added, 2);
    let job = read_job(&a, &county, &waiting.to_string()).await.unwrap();
    assert_eq!(
        job.phase,
        ImportPhase::Failed(daohu::text::zh::IMPORT_INTERRUPTED.into())
    );

    // A job failed as dead never writes afterwards: its write finds the
    // job ended and leaves nothing.
    let late = held_job(&db, long_ago, true).await;
    assert!(
        read_job(&a, &county, &late.to_string())
            .await
            .unwrap()
            .phase
            .is_finished()
    );
    let household = a_household_record("T9999", VILLAGE);
    let report = ImportReport {
        rows: 1,
        added: 1,
        ..ImportReport::default()
    };
    let written = db
        .store
        .apply_roster(
            &RosterWrite {
                households: vec![household],
                ..RosterWrite::default()
            },
            &|_| {},
            Some(ImportDone {
                job_id: late,
                report: &report,
                at: chrono::Utc::now(),
            }),
        )
        .await
        .unwrap();
    assert!(!written);
    assert!(
        db.store
            .households_by_numbers(&["T9999".into()])
            .await
            .unwrap()
            .is_empty()
    );

    // One that died after its rows were committed ends done with its report.
    let committed = held_job(&db, long_ago, true).await;
    let written = db
        .store
        .apply_roster(
            &RosterWrite {
                households: vec![a_household_record("T9998", VILLAGE)],
                ..RosterWrite::default()
            },
            &|_| {},
            Some(ImportDone {
                job_id: committed,
                report: &report,
                at: long_ago.now,
            }),
        )
        .await
        .unwrap();
    assert!(written);
    let job = read_job(&b, &county, &committed.to_string()).await.unwrap();
    assert_eq!(job.phase, ImportPhase::Done(report));
}

async fn the_import_queue_is_bounded_per_county_with_a_clear_429(db: TestDb) {
    let db = db.with_demo().await;
    let a = db.state();
    let b = second_instance(&db).await;
    let county = sign_in(&a, "county").await;
    let held = held_job(&db, clock_at(chrono::Duration::zero()), true).await;
    let _beat = keep_beating(&db, held);
    let mut waiting = Vec::new();
    for (i, state) in [&a, &b, &a].into_iter().enumerate() {
        let id = upload_id(
            state,
            &county,
            "households",
            &format!("{i}.csv"),
            households_csv().as_bytes(),
        )
        .await;
        waiting.push(id);
    }
    // Four unfinished for the county, whichever instance is asked.
    for state in [&a, &b] {
        let r = upload(
            state,
            Some(&county),
            "households",
            "多.csv",
            households_csv().as_bytes(),
        )
        .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
        assert!(
            r.body.contains("安定区已有 4 个导入在排队或进行中"),
            "{}",
            r.body
        );
    }
    db.store
        .finish_import_job(
            held,
            &ImportPhase::Failed("测试".into()),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let mut added = 0;
    for id in &waiting {
        added += done(&finished_job(&a, &county, id).await).added;
    }
    assert_eq!(added, 2, "one wrote the file, the next found it unchanged");
    // Room again.
    let id = upload_id(
        &b,
        &county,
        "households",
        "再.csv",
        households_csv().as_bytes(),
    )
    .await;
    assert_eq!(done(&finished_job(&b, &county, &id).await).unchanged, 2);
}

/// A household of `village`, for writing around the import.
fn a_household_record(number: &str, village: &str) -> daohu::server::db::HouseholdRecord {
    use daohu::areas::AreaCode;
    use daohu::households::{Category, HealthStatus, LabourStatus};
    use daohu::server::db::{HouseholdRecord, MemberRecord};
    HouseholdRecord {
        id: uuid::Uuid::now_v7(),
        number: number.into(),
        head_name: "周四".into(),
        category: Category::Alleviated,
        relocated: false,
        village: AreaCode::parse(village).unwrap(),
        worker_id: None,
        phone: None,
        members: vec![MemberRecord {
            id: uuid::Uuid::now_v7(),
            name: "周四".into(),
            relation: "户主".into(),
            id_number: id_number(&format!("6211021990010{}", &number[number.len() - 4..])),
            labour: LabourStatus::Full,
            health: HealthStatus::Healthy,
        }],
    }
}

on_both_backends!(
    a_households_file_is_written_once_and_re_importing_changes_nothing,
    every_kind_of_bad_household_row_is_named_and_nothing_is_written,
    missing_or_unknown_columns_and_unreadable_files_are_refused,
    entitlements_are_checked_against_households_items_and_years,
    amounts_beyond_the_bound_are_refused_as_text_or_number_and_nothing_is_written,
    an_xlsx_roster_is_read_with_its_numbers_and_dates,
    only_county_offices_and_above_import_and_only_they_see_their_job,
    templates_hold_exactly_the_columns_the_import_reads,
    the_demo_roster_files_import_whole,
    imports_name_nothing_outside_the_importers_area,
    hostile_files_are_refused_while_read_and_the_server_stays_up,
    an_import_started_on_one_instance_is_followed_on_another_and_only_by_its_owner,
    imports_of_one_county_run_one_at_a_time_across_instances,
    a_job_whose_instance_died_ends_failed_never_running,
    the_import_queue_is_bounded_per_county_with_a_clear_429,
);
