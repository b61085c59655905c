use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::households::{EntitlementView, HouseholdSummary, MemberView};
use crate::income::{IncomeKind, IncomeLine, check_income_lines};
use crate::plans::{Measure, MeasureStatus, MeasureUpdate, check_measure_update};
use crate::subsidies::{Channel, Fen, china_date};
use crate::visits::{
    Confirmation, EvidenceFor, HOUSEHOLD_SIZES, LineEvidence, Location, PaymentStatus, Problem,
    ShortfallReason, Signature, VerificationLine, VisitSubmission, check_lines,
    check_signature_mark, check_signer, check_visit_fields, confirmation_hash, receipt_code,
    signer_needs_reason,
};

/// Everything a field worker's phone keeps to work offline: their assigned
/// households with members (ID numbers and phones already masked) and the
/// year's expected payments. Downloaded whole and replaced whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub user_id: Uuid,
    pub stat_year: i32,
    pub downloaded_at: DateTime<Utc>,
    pub households: Vec<RosterHousehold>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterHousehold {
    pub summary: HouseholdSummary,
    pub phone_masked: Option<String>,
    pub members: Vec<MemberView>,
    pub entitlements: Vec<EntitlementView>,
    /// The measures of the household's plan (一户一策), for a visit to
    /// move. Defaulted, like the two below, so that a roster cached by an
    /// older app still opens.
    #[serde(default)]
    pub measures: Vec<Measure>,
    /// The latest declared figure of each income kind in the year.
    #[serde(default)]
    pub income: Vec<RecordedIncome>,
    /// The household size the latest visit of the year confirmed.
    #[serde(default)]
    pub confirmed_size: Option<i32>,
    /// The year's visits the server holds, newest first (made on this
    /// phone or another), with their review.
    #[serde(default)]
    pub visits: Vec<YearVisit>,
}

/// A visit of the statistics year as the server stores it, for the phone
/// to know a household is visited and what a supervisor said of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearVisit {
    pub visit_id: Uuid,
    pub household_id: Uuid,
    pub started_at: DateTime<Utc>,
    /// The worker's display name.
    pub worker: String,
    pub receipt_code: String,
    pub review: crate::visits::ReviewState,
    pub review_comment: Option<String>,
    pub open_discrepancies: i64,
}

impl YearVisit {
    /// A supervisor marked it 有问题, or a payment it verified is still
    /// being followed up.
    pub fn has_problem(&self) -> bool {
        self.review == crate::visits::ReviewState::HasIssues || self.open_discrepancies > 0
    }
}

impl RosterHousehold {
    /// The measures a visit can still move: planned or in progress.
    pub fn open_measures(&self) -> impl Iterator<Item = &Measure> {
        self.measures.iter().filter(|m| m.status.is_open())
    }

    pub fn recorded_income(&self, kind: IncomeKind) -> Option<&RecordedIncome> {
        self.income.iter().find(|r| r.kind == kind)
    }
}

/// An income figure a signed visit declared, as the next visit shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedIncome {
    pub kind: IncomeKind,
    pub amount: Fen,
    pub evidence: bool,
    pub note: String,
    /// The China day of the visit that declared it.
    pub declared_on: NaiveDate,
}

/// The part of a roster the household list needs: small enough to read
/// and parse at once when the app opens; the whole roster follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterList {
    pub user_id: Uuid,
    pub stat_year: i32,
    pub downloaded_at: DateTime<Utc>,
    pub households: Vec<HouseholdSummary>,
    /// The newest stored visit of each visited household.
    #[serde(default)]
    pub visited: Vec<YearVisit>,
}

impl RosterList {
    /// The newest visit the server holds for the household this year.
    pub fn server_visit(&self, household: Uuid) -> Option<&YearVisit> {
        self.visited.iter().find(|v| v.household_id == household)
    }

    /// The villages of the list, in order, each once: (code, name).
    pub fn villages(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for h in &self.households {
            let v = &h.village;
            if !out.iter().any(|(code, _)| *code == v.code.as_str()) {
                out.push((v.code.as_str().to_owned(), v.name.clone()));
            }
        }
        out
    }

    /// The same search as online: the head's name (substring) or the
    /// household number (prefix), optionally within one village.
    pub fn search<'a>(&'a self, text: &str, village: Option<&str>) -> Vec<&'a HouseholdSummary> {
        let text = text.trim();
        self.households
            .iter()
            .filter(|h| village.is_none_or(|v| h.village.code.as_str() == v))
            .filter(|h| text.is_empty() || h.head_name.contains(text) || h.number.starts_with(text))
            .collect()
    }
}

impl Roster {
    pub fn list(&self) -> RosterList {
        RosterList {
            user_id: self.user_id,
            stat_year: self.stat_year,
            downloaded_at: self.downloaded_at,
            households: self.households.iter().map(|h| h.summary.clone()).collect(),
            visited: self
                .households
                .iter()
                .filter_map(|h| h.visits.first().cloned())
                .collect(),
        }
    }

    pub fn household(&self, id: Uuid) -> Option<&RosterHousehold> {
        self.households.iter().find(|h| h.summary.id == id)
    }

    /// Takes in what a finished visit recorded (measure moves, declared
    /// income, the confirmed size), so that the next visit on this phone
    /// starts from it before the next download brings the server's copy.
    pub fn absorb(&mut self, visit: &VisitSubmission) {
        let Some(h) = self
            .households
            .iter_mut()
            .find(|h| h.summary.id == visit.household_id)
        else {
            return;
        };
        for u in &visit.measure_updates {
            if let Some(m) = h.measures.iter_mut().find(|m| m.id == u.measure_id) {
                m.status = u.status;
                m.done_on = u.done_on;
                m.drop_reason = u.drop_reason.clone();
                m.note = u.note.clone();
            }
        }
        if visit.stat_year != self.stat_year {
            return; // income and size belong to their own year
        }
        let declared_on = crate::subsidies::china_date(visit.started_at);
        for l in &visit.income {
            h.income.retain(|r| r.kind != l.kind);
            h.income.push(RecordedIncome {
                kind: l.kind,
                amount: Fen(l.amount_fen),
                evidence: l.evidence,
                note: l.note.clone(),
                declared_on,
            });
        }
        h.income.sort_by_key(|r| r.kind);
        if visit.household_size.is_some() {
            h.confirmed_size = visit.household_size;
        }
    }
}

/// A visit being recorded, as the phone saves it after every keystroke.
/// Typed text stays text (an amount is checked, not lost, while half
/// typed); [`VisitDraft::submission`] turns it into a checked visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitDraft {
    /// UUIDv7, made when the visit starts: the visit's id for good.
    pub id: Uuid,
    pub user_id: Uuid,
    pub household_id: Uuid,
    pub stat_year: i32,
    pub started_at: DateTime<Utc>,
    pub met_with: String,
    pub notes: String,
    /// `None` until the phone has been asked.
    pub location: Option<Location>,
    pub lines: Vec<LineDraft>,
    pub photo_base64: Option<String>,
    pub signer_name: String,
    pub signer_relation: String,
    pub thumbprint: bool,
    pub proxy_reason: String,
    pub signature: Option<SignatureMark>,
    /// Set when an edit voided a signature, until the household signs again.
    pub signature_voided: bool,
    /// The worker's changes to the plan's measures. Like the two below,
    /// defaulted so that a draft saved by an older app still opens.
    #[serde(default)]
    pub measures: Vec<MeasureDraft>,
    /// Income figures as typed; a kind left empty is not declared.
    #[serde(default)]
    pub income: Vec<IncomeDraft>,
    /// 本年度家庭人口 as typed; empty confirms nothing.
    #[serde(default)]
    pub household_size: String,
    /// Evidence photos taken, by the line they back. One for an income
    /// kind left empty is kept (the figure may be typed again) but not sent.
    #[serde(default)]
    pub evidence: Vec<LineEvidence>,
}

/// A plan measure as the worker is updating it; it starts as the roster
/// has it and becomes a [`MeasureUpdate`] only if it differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureDraft {
    pub measure_id: Uuid,
    pub status: MeasureStatus,
    /// `YYYY-MM-DD`, as a date input gives it.
    pub done_on: String,
    pub drop_reason: String,
    pub note: String,
}

impl MeasureDraft {
    fn from_measure(m: &Measure) -> MeasureDraft {
        MeasureDraft {
            measure_id: m.id,
            status: m.status,
            done_on: m.done_on.map(|d| d.to_string()).unwrap_or_default(),
            drop_reason: m.drop_reason.clone().unwrap_or_default(),
            note: m.note.clone(),
        }
    }
}

/// One income kind as the worker is filling it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncomeDraft {
    pub kind: IncomeKind,
    /// As typed, in 元; empty: not declared this visit.
    pub amount: String,
    pub evidence: bool,
    pub note: String,
}

/// One expected payment as the worker is filling it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDraft {
    pub entitlement_id: Uuid,
    pub status: Option<PaymentStatus>,
    /// As typed, in 元.
    pub amount: String,
    /// `YYYY-MM-DD`, as a date input gives it.
    pub received_on: String,
    pub channel: Option<Channel>,
    pub reason: Option<ShortfallReason>,
    pub reason_text: String,
}

/// The household's mark on the screen and the content it confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureMark {
    pub strokes_json: String,
    pub png_base64: String,
    pub content_hash: String,
    /// When the household signed: the visit's end, which the signature
    /// covers. Absent in a mark an older app made (its layout does not
    /// cover the end, which is then when the worker finishes).
    #[serde(default)]
    pub signed_at: Option<DateTime<Utc>>,
}

/// What the household signs for, summed: due is every payment whose date
/// has come, received what it says arrived of those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfirmedTotals {
    pub due: Fen,
    pub received: Fen,
    /// Payments that arrived in part or not at all.
    pub short: usize,
    /// Payments not due yet (neither in `due` nor `received`).
    pub later: usize,
}

impl VisitDraft {
    pub fn totals(&self, household: &RosterHousehold) -> ConfirmedTotals {
        let mut t = ConfirmedTotals::default();
        for (line, e) in self.lines.iter().zip(&household.entitlements) {
            let typed = || Fen::parse_yuan(&line.amount).unwrap_or(Fen(0));
            let received = match line.status {
                None => continue,
                Some(PaymentStatus::NotDueYet) => {
                    t.later += 1;
                    continue;
                }
                Some(PaymentStatus::ReceivedInFull) => typed(),
                Some(PaymentStatus::ReceivedInPart) => {
                    t.short += 1;
                    typed()
                }
                Some(PaymentStatus::NotReceived) => {
                    t.short += 1;
                    Fen(0)
                }
            };
            t.due = t.due.saturating_add(e.expected);
            t.received = t.received.saturating_add(received);
        }
        t
    }

    pub fn start(
        id: Uuid,
        user_id: Uuid,
        household: &RosterHousehold,
        stat_year: i32,
        now: DateTime<Utc>,
    ) -> VisitDraft {
        VisitDraft {
            id,
            user_id,
            household_id: household.summary.id,
            stat_year,
            started_at: now,
            met_with: String::new(),
            notes: String::new(),
            location: None,
            lines: household
                .entitlements
                .iter()
                .map(|e| LineDraft {
                    entitlement_id: e.id,
                    status: None,
                    amount: String::new(),
                    received_on: String::new(),
                    channel: None,
                    reason: None,
                    reason_text: String::new(),
                })
                .collect(),
            photo_base64: None,
            signer_name: household.summary.head_name.clone(),
            signer_relation: crate::visits::HEAD_RELATION.to_owned(),
            thumbprint: false,
            proxy_reason: String::new(),
            signature: None,
            signature_voided: false,
            measures: Vec::new(),
            income: Vec::new(),
            evidence: Vec::new(),
            // The size a visit confirmed this year, else the members on record.
            household_size: household
                .confirmed_size
                .map_or(household.summary.size, i64::from)
                .to_string(),
        }
    }

    /// The worker's draft of a measure, as the roster has it until edited.
    pub fn measure(&self, m: &Measure) -> MeasureDraft {
        self.measures
            .iter()
            .find(|d| d.measure_id == m.id)
            .cloned()
            .unwrap_or_else(|| MeasureDraft::from_measure(m))
    }

    /// The draft of a measure to edit, made on first edit.
    pub fn measure_mut(&mut self, m: &Measure) -> &mut MeasureDraft {
        let at = match self.measures.iter().position(|d| d.measure_id == m.id) {
            Some(at) => at,
            None => {
                self.measures.push(MeasureDraft::from_measure(m));
                self.measures.len() - 1
            }
        };
        &mut self.measures[at]
    }

    /// Sets a measure's status the way a worker expects: "done" offers
    /// `today` as the day, and what belongs to another status is cleared.
    pub fn set_measure_status(&mut self, m: &Measure, status: MeasureStatus, today: NaiveDate) {
        let d = self.measure_mut(m);
        d.status = status;
        if status == MeasureStatus::Done {
            if d.done_on.trim().is_empty() {
                d.done_on = today.to_string();
            }
        } else {
            d.done_on.clear();
        }
        if status != MeasureStatus::Dropped {
            d.drop_reason.clear();
        }
    }

    /// The evidence photo of a line, base64 JPEG, if taken.
    pub fn evidence_of(&self, line: EvidenceFor) -> Option<&str> {
        self.evidence
            .iter()
            .find(|e| e.line == line)
            .map(|e| e.photo_base64.as_str())
    }

    /// The evidence photos the visit carries: those of lines it has (an
    /// income kind emptied again has none).
    pub fn evidence_sent(&self) -> impl Iterator<Item = &LineEvidence> {
        self.evidence.iter().filter(|e| match e.line {
            EvidenceFor::Payment(id) => self.lines.iter().any(|l| l.entitlement_id == id),
            EvidenceFor::Income(kind) => !self.income_of(kind).amount.trim().is_empty(),
        })
    }

    /// Takes (`Some`) or removes (`None`) a line's evidence photo.
    pub fn set_evidence(&mut self, line: EvidenceFor, photo: Option<String>) {
        self.evidence.retain(|e| e.line != line);
        if let Some(photo_base64) = photo {
            self.evidence.push(LineEvidence { line, photo_base64 });
        }
    }

    /// The worker's figure for an income kind, empty until typed.
    pub fn income_of(&self, kind: IncomeKind) -> IncomeDraft {
        self.income
            .iter()
            .find(|d| d.kind == kind)
            .cloned()
            .unwrap_or(IncomeDraft {
                kind,
                amount: String::new(),
                evidence: false,
                note: String::new(),
            })
    }

    /// The draft of an income kind to edit, made on first edit.
    pub fn income_mut(&mut self, kind: IncomeKind) -> &mut IncomeDraft {
        let at = match self.income.iter().position(|d| d.kind == kind) {
            Some(at) => at,
            None => {
                self.income.push(self.income_of(kind));
                self.income.len() - 1
            }
        };
        &mut self.income[at]
    }

    /// The changed measures as checked updates, or the first problem
    /// (named `measures.<id>.<field>` for the form). A measure the
    /// roster no longer lists is left out: the phone cannot show it.
    pub fn measure_updates(
        &self,
        household: &RosterHousehold,
        today: NaiveDate,
    ) -> Result<Vec<MeasureUpdate>, Problem> {
        let mut out = Vec::new();
        for m in &household.measures {
            let d = self.measure(m);
            let field = format!("measures.{}", m.id);
            let done_on = if d.status == MeasureStatus::Done {
                let day = d.done_on.trim().parse::<NaiveDate>().map_err(|_| Problem {
                    field: format!("{field}.done_on"),
                    message: "请填写完成日期".into(),
                })?;
                Some(day)
            } else {
                None
            };
            let reason = d.drop_reason.trim();
            let update = MeasureUpdate {
                measure_id: m.id,
                status: d.status,
                done_on,
                drop_reason: (d.status == MeasureStatus::Dropped).then(|| reason.to_owned()),
                note: d.note.trim().to_owned(),
            };
            let unchanged = update.status == m.status
                && update.done_on == m.done_on
                && update.drop_reason == m.drop_reason
                && update.note == m.note;
            if unchanged {
                continue;
            }
            check_measure_update(&update, &field, today)
                .map_err(|(field, message)| Problem::new(field, message))?;
            out.push(update);
        }
        Ok(out)
    }

    /// The declared income figures as checked lines in kind order, or the
    /// first problem (named `income.<kind>.<field>` for the form).
    pub fn income_lines(&self) -> Result<Vec<IncomeLine>, Problem> {
        let mut out = Vec::new();
        for kind in IncomeKind::ALL {
            let d = self.income_of(kind);
            if d.amount.trim().is_empty() {
                continue;
            }
            let field = |name: &str| format!("income.{}.{name}", kind.as_str());
            let amount =
                Fen::parse_yuan(&d.amount).map_err(|m| Problem::new(field("amount_fen"), m))?;
            let line = IncomeLine {
                kind,
                amount_fen: amount.0,
                // The tick of a draft an older app began stays as typed.
                evidence: d.evidence || self.evidence_of(EvidenceFor::Income(kind)).is_some(),
                note: d.note.trim().to_owned(),
            };
            // The shared rules, one line at a time: a problem keeps the
            // field's name and takes this kind's place in the form.
            check_income_lines(std::slice::from_ref(&line)).map_err(|(name, message)| {
                let name = name.rsplit('.').next().unwrap_or_default();
                Problem::new(field(name), message)
            })?;
            out.push(line);
        }
        Ok(out)
    }

    /// The confirmed household size, if typed.
    pub fn confirmed_size(&self) -> Result<Option<i32>, Problem> {
        let text = self.household_size.trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<i32>() {
            Ok(n) if HOUSEHOLD_SIZES.contains(&n) => Ok(Some(n)),
            _ => Err(Problem::new("household_size", "家庭人口应在1至99人之间")),
        }
    }

    /// Applies an edit. If the household had signed and the edit changes
    /// what they confirmed, the signature is void: it is removed and the
    /// draft remembers why, so the confirmation screen can say so.
    pub fn edit(
        &mut self,
        household: &RosterHousehold,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut VisitDraft),
    ) {
        change(self);
        if self.signature.is_some() && !self.still_signed(household, now) {
            self.signature = None;
            self.signature_voided = true;
        }
    }

    /// Whether the signature covers the content as it is now (in any
    /// layout the server accepts, so a draft an older app had signed stays
    /// signed until something it covers changes).
    fn still_signed(&self, household: &RosterHousehold, now: DateTime<Utc>) -> bool {
        self.signature.is_some()
            && self
                .submission(household, now)
                .is_ok_and(|v| Confirmation::of_signed(&v).is_some())
    }

    /// Sets a line's status the way a worker expects: "in full" fills in
    /// the expected amount and channel, "not received" clears the receipt.
    pub fn set_status(&mut self, line: usize, status: PaymentStatus, expected: &EntitlementView) {
        let Some(l) = self.lines.get_mut(line) else {
            return;
        };
        l.status = Some(status);
        if status == PaymentStatus::ReceivedInFull {
            if l.amount.trim().is_empty() {
                l.amount = expected.expected.to_input();
            }
            l.channel.get_or_insert(expected.channel);
        }
        if !status.has_receipt() {
            l.amount.clear();
            l.received_on.clear();
            l.channel = None;
        }
        if !status.is_short() && l.reason != Some(ShortfallReason::Other) {
            l.reason = None;
        }
    }

    /// The lines as checked verification lines, or the first problem.
    pub fn verification_lines(
        &self,
        household: &RosterHousehold,
    ) -> Result<Vec<VerificationLine>, Problem> {
        let mut out = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            let problem = |name: &str, message: &str| Problem {
                field: format!("lines[{i}].{name}"),
                message: message.to_owned(),
            };
            let Some(status) = l.status else {
                return Err(problem("status", "请选择到账情况"));
            };
            let (received_fen, received_on) = if status.has_receipt() {
                let fen = Fen::parse_yuan(&l.amount).map_err(|m| problem("received_fen", m))?;
                let date = l
                    .received_on
                    .trim()
                    .parse::<NaiveDate>()
                    .map_err(|_| problem("received_on", "请填写到账日期"))?;
                (Some(fen.0), Some(date))
            } else {
                (None, None)
            };
            out.push(VerificationLine {
                entitlement_id: l.entitlement_id,
                status,
                received_fen,
                received_on,
                channel: if status.has_receipt() {
                    l.channel
                } else {
                    None
                },
                reason: l.reason,
                reason_text: l.reason_text.trim().to_owned(),
            });
        }
        let due: Vec<(Uuid, i64)> = household
            .entitlements
            .iter()
            .map(|e| (e.id, e.expected.0))
            .collect();
        check_lines(&out, &due)?;
        if self.met_with.trim().is_empty() {
            return Err(Problem {
                field: "met_with".into(),
                message: "请填写见到的家庭成员".into(),
            });
        }
        Ok(out)
    }

    /// The visit as it would be sent, with the signature it has (or an
    /// empty one): the form whose hash the household signs.
    pub fn submission(
        &self,
        household: &RosterHousehold,
        ended_at: DateTime<Utc>,
    ) -> Result<VisitSubmission, Problem> {
        let lines = self.verification_lines(household)?;
        // Once signed, the visit ended when the household signed.
        let ended_at = self
            .signature
            .as_ref()
            .and_then(|m| m.signed_at)
            .unwrap_or(ended_at)
            .max(self.started_at);
        let measure_updates = self.measure_updates(household, china_date(ended_at))?;
        let income = self.income_lines()?;
        let household_size = self.confirmed_size()?;
        let mark = self.signature.clone().unwrap_or(SignatureMark {
            strokes_json: String::new(),
            png_base64: String::new(),
            content_hash: String::new(),
            signed_at: None,
        });
        let proxy_reason = signer_needs_reason(&self.signer_relation, self.thumbprint)
            .then(|| self.proxy_reason.trim().to_owned());
        let visit = VisitSubmission {
            id: self.id,
            household_id: self.household_id,
            stat_year: self.stat_year,
            started_at: self.started_at,
            ended_at,
            met_with: self.met_with.trim().to_owned(),
            notes: self.notes.trim().to_owned(),
            location: self.location.clone().unwrap_or(Location::Unavailable),
            evidence: self.evidence_sent().cloned().collect(),
            lines,
            signature: Signature {
                signer_name: self.signer_name.trim().to_owned(),
                signer_relation: self.signer_relation.trim().to_owned(),
                thumbprint: self.thumbprint,
                proxy_reason,
                strokes_json: mark.strokes_json,
                png_base64: mark.png_base64,
                content_hash: mark.content_hash,
            },
            photo_base64: self.photo_base64.clone(),
            measure_updates,
            income,
            household_size,
        };
        check_visit_fields(&visit)?;
        Ok(visit)
    }

    /// Checks everything the household confirms, signer included, before
    /// the signature pad is offered.
    pub fn ready_to_sign(
        &self,
        household: &RosterHousehold,
        now: DateTime<Utc>,
    ) -> Result<String, Problem> {
        // Signing anew ends the visit now, whatever an earlier mark said.
        let unsigned = VisitDraft {
            signature: None,
            ..self.clone()
        };
        let visit = unsigned.submission(household, now)?;
        check_signer(&visit.signature)?;
        Ok(confirmation_hash(&visit))
    }

    /// Records the household's signature over the current content, which
    /// ends the visit at `now`. The position is what it is at this moment
    /// (none yet is "unavailable"): one arriving later would change what
    /// was signed.
    pub fn sign(
        &mut self,
        household: &RosterHousehold,
        now: DateTime<Utc>,
        strokes_json: String,
        png_base64: String,
    ) -> Result<String, Problem> {
        check_signature_mark(&strokes_json, &png_base64)?;
        let hash = self.ready_to_sign(household, now)?;
        self.location.get_or_insert(Location::Unavailable);
        self.signature = Some(SignatureMark {
            strokes_json,
            png_base64,
            content_hash: hash.clone(),
            signed_at: Some(now),
        });
        self.signature_voided = false;
        Ok(receipt_code(&hash))
    }

    /// The finished visit for the outbox: complete and signed over exactly
    /// this content.
    pub fn finish(
        &self,
        household: &RosterHousehold,
        ended_at: DateTime<Utc>,
    ) -> Result<VisitSubmission, Problem> {
        let visit = self.submission(household, ended_at)?;
        check_signer(&visit.signature)?;
        if self.signature.is_none() || Confirmation::of_signed(&visit).is_none() {
            return Err(Problem {
                field: "signature".into(),
                message: "请农户签字确认".into(),
            });
        }
        Ok(visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_visit_is_taken_into_the_phones_roster() {
        let h = household();
        let measure = Measure {
            id: Uuid::now_v7(),
            category: crate::plans::MeasureCategory::Industry,
            action: "养殖肉牛2头".into(),
            funding_source: String::new(),
            funding: Fen(0),
            due_on: NaiveDate::from_ymd_opt(2027, 6, 1).unwrap(),
            expected_income: Fen(0),
            status: crate::plans::MeasureStatus::Planned,
            done_on: None,
            drop_reason: None,
            note: String::new(),
        };
        let mut roster = Roster {
            user_id: Uuid::now_v7(),
            stat_year: 2027,
            downloaded_at: Utc::now(),
            households: vec![RosterHousehold {
                measures: vec![measure.clone()],
                ..h.clone()
            }],
        };
        let mut visit = crate::visits::model::tests::sample(h.summary.id, &[]);
        visit.measure_updates = vec![crate::plans::MeasureUpdate {
            measure_id: measure.id,
            status: crate::plans::MeasureStatus::Done,
            done_on: NaiveDate::from_ymd_opt(2027, 3, 1),
            drop_reason: None,
            note: "已购牛".into(),
        }];
        visit.income = vec![crate::income::IncomeLine {
            kind: IncomeKind::WageMigrant,
            amount_fen: 1_200_000,
            evidence: true,
            note: String::new(),
        }];
        visit.household_size = Some(2);
        roster.absorb(&visit);
        let after = roster.household(h.summary.id).unwrap();
        assert_eq!(after.open_measures().count(), 0, "not offered again");
        assert_eq!(
            after
                .recorded_income(IncomeKind::WageMigrant)
                .unwrap()
                .amount,
            Fen(1_200_000)
        );
        assert_eq!(after.confirmed_size, Some(2));
        // A visit of another year moves measures but leaves the year's figures.
        let mut old = visit.clone();
        old.stat_year = 2026;
        old.income[0].amount_fen = 1;
        roster.absorb(&old);
        let after = roster.household(h.summary.id).unwrap();
        assert_eq!(
            after
                .recorded_income(IncomeKind::WageMigrant)
                .unwrap()
                .amount,
            Fen(1_200_000)
        );
    }
    use crate::areas::{Area, AreaCode};
    use crate::households::Category;
    use crate::subsidies::IncomeBucket;

    fn household() -> RosterHousehold {
        let entitlement = |amount: i64| EntitlementView {
            id: Uuid::now_v7(),
            item_code: "x".into(),
            item_name: "耕地地力保护补贴".into(),
            bucket: IncomeBucket::Transfer,
            expected: Fen(amount),
            expected_date: NaiveDate::from_ymd_opt(2027, 5, 1).unwrap(),
            department: "农业农村局".into(),
            channel: Channel::OneCard,
        };
        RosterHousehold {
            summary: HouseholdSummary {
                id: Uuid::now_v7(),
                number: "6211021001010001".into(),
                head_name: "王建国".into(),
                category: Category::Alleviated,
                relocated: false,
                village: Area {
                    code: AreaCode::parse("621102100101").unwrap(),
                    name: "一村".into(),
                },
                size: 3,
                flags: Default::default(),
            },
            phone_masked: None,
            members: vec![],
            entitlements: vec![entitlement(52_000), entitlement(120_000)],
            measures: vec![
                measure(MeasureStatus::Planned),
                measure(MeasureStatus::Done),
            ],
            income: vec![],
            confirmed_size: None,
            visits: vec![],
        }
    }

    #[test]
    fn totals_sum_what_is_due_and_what_arrived_and_count_the_rest() {
        let h = household();
        let mut d = filled(&h);
        let t = d.totals(&h);
        assert_eq!(
            (t.due, t.received, t.short, t.later),
            (Fen(172_000), Fen(52_000), 1, 0)
        );
        // In part: what the household says arrived counts.
        d.set_status(1, PaymentStatus::ReceivedInPart, &h.entitlements[1]);
        d.lines[1].amount = "300".into();
        let t = d.totals(&h);
        assert_eq!((t.due, t.received, t.short), (Fen(172_000), Fen(82_000), 1));
        // Not due yet: neither due nor short, counted apart.
        d.set_status(1, PaymentStatus::NotDueYet, &h.entitlements[1]);
        let t = d.totals(&h);
        assert_eq!(
            (t.due, t.received, t.short, t.later),
            (Fen(52_000), Fen(52_000), 0, 1)
        );
        // A half-typed amount counts as nothing received, never as a panic.
        d.set_status(0, PaymentStatus::ReceivedInPart, &h.entitlements[0]);
        d.lines[0].amount = "12.3.4".into();
        assert_eq!(d.totals(&h).received, Fen(0));
    }

    #[test]
    fn the_list_carries_each_households_newest_server_visit() {
        let mut h = household();
        let visit = |review, open| YearVisit {
            visit_id: Uuid::now_v7(),
            household_id: h.summary.id,
            started_at: Utc::now(),
            worker: "李干部".into(),
            receipt_code: "ABCD-1234".into(),
            review,
            review_comment: None,
            open_discrepancies: open,
        };
        h.visits = vec![
            visit(crate::visits::ReviewState::HasIssues, 0),
            visit(crate::visits::ReviewState::Approved, 0),
        ];
        let roster = Roster {
            user_id: Uuid::now_v7(),
            stat_year: 2027,
            downloaded_at: Utc::now(),
            households: vec![h.clone()],
        };
        let list = roster.list();
        let newest = list.server_visit(h.summary.id).unwrap();
        assert!(newest.has_problem());
        assert!(!visit(crate::visits::ReviewState::Received, 0).has_problem());
        assert!(visit(crate::visits::ReviewState::Approved, 2).has_problem());
        assert!(list.server_visit(Uuid::now_v7()).is_none());
    }

    fn measure(status: MeasureStatus) -> Measure {
        Measure {
            id: Uuid::now_v7(),
            category: crate::plans::MeasureCategory::Employment,
            action: "推荐到兰州务工".into(),
            funding_source: String::new(),
            funding: Fen(0),
            due_on: NaiveDate::from_ymd_opt(2027, 6, 30).unwrap(),
            expected_income: Fen(1_000_000),
            status,
            done_on: (status == MeasureStatus::Done)
                .then(|| NaiveDate::from_ymd_opt(2027, 1, 5).unwrap()),
            drop_reason: None,
            note: String::new(),
        }
    }

    fn filled(h: &RosterHousehold) -> VisitDraft {
        let now = DateTime::parse_from_rfc3339("2027-03-01T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut d = VisitDraft::start(Uuid::now_v7(), Uuid::now_v7(), h, 2027, now);
        d.met_with = "户主本人".into();
        d.set_status(0, PaymentStatus::ReceivedInFull, &h.entitlements[0]);
        d.lines[0].received_on = "2027-02-01".into();
        d.set_status(1, PaymentStatus::NotReceived, &h.entitlements[1]);
        d.lines[1].reason = Some(ShortfallReason::NotYetPaidOut);
        d
    }

    #[test]
    fn evidence_goes_with_the_lines_it_backs_and_marks_income_backed() {
        let h = household();
        let mut d = filled(&h);
        let now = d.started_at + chrono::Duration::minutes(20);
        let payment = EvidenceFor::Payment(h.entitlements[0].id);
        let wage = EvidenceFor::Income(IncomeKind::WageMigrant);
        d.set_evidence(payment, Some("/9j/AA==".into()));
        d.set_evidence(wage, Some("/9j/AB==".into()));
        // Taking it again replaces it; one photo per line.
        d.set_evidence(payment, Some("/9j/AC==".into()));
        assert_eq!(d.evidence.len(), 2);
        assert_eq!(d.evidence_of(payment), Some("/9j/AC=="));
        // The wage is not declared: its photo is kept but not sent.
        let v = d.submission(&h, now).unwrap();
        assert_eq!(v.evidence.len(), 1);
        assert_eq!(v.evidence[0].line, payment);
        d.income_mut(IncomeKind::WageMigrant).amount = "3000".into();
        let v = d.submission(&h, now).unwrap();
        assert_eq!(v.evidence.len(), 2);
        assert!(
            v.income[0].evidence,
            "a photographed figure is marked backed"
        );
        // What the household signs names each photo.
        let text = crate::visits::confirmation_text(&v);
        assert_eq!(text.matches("\nevidence|").count(), 2, "{text}");
        d.set_evidence(wage, None);
        let v = d.submission(&h, now).unwrap();
        assert!(!v.income[0].evidence);
        assert_eq!(d.evidence_of(wage), None);
    }

    #[test]
    fn in_full_fills_in_the_expected_amount_and_channel() {
        let h = household();
        let d = filled(&h);
        assert_eq!(d.lines[0].amount, "520.00");
        assert_eq!(d.lines[0].channel, Some(Channel::OneCard));
        let lines = d.verification_lines(&h).unwrap();
        assert_eq!(lines[0].received_fen, Some(52_000));
        assert_eq!(lines[1].received_fen, None);
    }

    #[test]
    fn problems_name_the_line_and_field() {
        let h = household();
        let mut d = filled(&h);
        d.lines[1].reason = None;
        let p = d.verification_lines(&h).unwrap_err();
        assert_eq!((p.line(), p.field.as_str()), (Some(1), "lines[1].reason"));
        d.lines[1].reason = Some(ShortfallReason::NotYetPaidOut);
        d.lines[0].amount = "5.123".into();
        let p = d.verification_lines(&h).unwrap_err();
        assert_eq!(p.field, "lines[0].received_fen");
        assert!(p.message.contains("两位小数"), "{}", p.message);
    }

    #[test]
    fn amounts_beyond_the_bound_or_below_zero_are_refused_before_signing() {
        let h = household();
        let mut d = filled(&h);
        // The largest amount allowed goes through, typed as a worker would.
        d.lines[0].amount = "100,000,000.00".into();
        d.income_mut(IncomeKind::WageLocal).amount = "1,0000,0000".into();
        let v = d.submission(&h, d.started_at).unwrap();
        assert_eq!(v.lines[0].received_fen, Some(Fen::MAX.0));
        assert_eq!(v.income[0].amount_fen, Fen::MAX.0);
        for typed in ["92233720368547758.07", "100000000.01", "-1", "-0.01"] {
            let mut d = filled(&h);
            d.lines[0].amount = typed.into();
            let p = d.ready_to_sign(&h, d.started_at).unwrap_err();
            assert_eq!(p.field, "lines[0].received_fen", "{typed}");
            assert!(!p.message.is_empty());
            let mut d = filled(&h);
            d.income_mut(IncomeKind::WageLocal).amount = typed.into();
            let p = d.ready_to_sign(&h, d.started_at).unwrap_err();
            assert_eq!(p.field, "income.wage_local.amount_fen", "{typed}");
        }
        let mut d = filled(&h);
        d.lines[0].amount = "100000000.01".into();
        assert_eq!(
            d.ready_to_sign(&h, d.started_at).unwrap_err().message,
            Fen::TOO_LARGE
        );
    }

    #[test]
    fn a_proxy_signer_needs_a_reason() {
        let h = household();
        let mut d = filled(&h);
        d.signer_relation = "非家庭成员代签".into();
        assert_eq!(
            d.ready_to_sign(&h, d.started_at).unwrap_err().field,
            "signature.proxy_reason"
        );
        d.proxy_reason = "户主外出务工".into();
        assert!(d.ready_to_sign(&h, d.started_at).is_ok());
    }

    #[test]
    fn editing_after_signing_voids_the_signature() {
        let h = household();
        let mut d = filled(&h);
        let code = d
            .sign(&h, d.started_at, "[]".into(), "iVBO".into())
            .unwrap();
        assert_eq!(code.len(), 9);
        let visit = d.finish(&h, d.started_at).unwrap();
        assert_eq!(visit.signature.content_hash, confirmation_hash(&visit));

        // Editing what is not signed content (the signer's reason when
        // none is needed) leaves the signature standing.
        d.edit(&h, d.started_at, |d| d.proxy_reason = "无".into());
        assert!(d.signature.is_some());

        // Notes are signed content now (v3): a note added afterwards voids it.
        d.edit(&h, d.started_at, |d| d.notes = "院内整洁".into());
        assert!(d.signature.is_none() && d.signature_voided);
        d.sign(&h, d.started_at, "[]".into(), "iVBO".into())
            .unwrap();

        d.edit(&h, d.started_at, |d| d.lines[0].amount = "519.99".into());
        assert!(d.signature.is_none());
        assert!(d.signature_voided);
        assert_eq!(
            d.finish(&h, d.started_at).unwrap_err().field,
            "lines[0].status"
        );
        d.edit(&h, d.started_at, |d| d.lines[0].amount = "520".into());
        assert_eq!(d.finish(&h, d.started_at).unwrap_err().field, "signature");

        d.sign(&h, d.started_at, "[]".into(), "iVBO".into())
            .unwrap();
        assert!(!d.signature_voided);
        assert!(d.finish(&h, d.started_at).is_ok());
    }

    #[test]
    fn the_visit_ends_when_the_household_signs_with_the_position_it_had() {
        let h = household();
        let mut d = filled(&h);
        let signed_at = d.started_at + chrono::Duration::minutes(30);
        d.sign(&h, signed_at, "[]".into(), "iVBO".into()).unwrap();
        assert_eq!(d.location, Some(Location::Unavailable), "pinned at signing");
        // Finished an hour later, or reopened the next day: the same visit.
        // What the confirmation screen shows is still there once signed.
        assert!(d.submission(&h, d.started_at).is_ok());
        for later in [
            signed_at + chrono::Duration::hours(1),
            signed_at + chrono::Duration::days(1),
        ] {
            d.edit(&h, later, |_| {});
            assert!(d.signature.is_some(), "nothing changed");
            let visit = d.finish(&h, later).unwrap();
            assert_eq!(visit.ended_at, signed_at);
            assert_eq!(Confirmation::of_signed(&visit), Some(Confirmation::V3));
        }
    }

    #[test]
    fn a_draft_an_older_app_signed_still_finishes() {
        let h = household();
        let mut d = filled(&h);
        let old = d.submission(&h, d.started_at).unwrap();
        let version = Confirmation::legacy(&old);
        d.signature = Some(SignatureMark {
            strokes_json: "[]".into(),
            png_base64: "iVBO".into(),
            content_hash: crate::visits::confirmation_hash_as(&old, version),
            signed_at: None,
        });
        let later = d.started_at + chrono::Duration::minutes(40);
        d.edit(&h, later, |d| d.notes = "v1 不含备注".into());
        assert!(d.signature.is_some(), "notes are outside the v1 layout");
        let visit = d.finish(&h, later).unwrap();
        assert_eq!(Confirmation::of_signed(&visit), Some(version));
        assert_eq!(visit.ended_at, later, "an older mark has no signing time");
    }

    #[test]
    fn the_phone_refuses_what_the_server_would_before_signing() {
        let h = household();
        let mut d = filled(&h);
        d.notes = "记".repeat(crate::visits::MAX_NOTES_CHARS + 1);
        assert_eq!(d.submission(&h, d.started_at).unwrap_err().field, "notes");
        assert_eq!(
            d.ready_to_sign(&h, d.started_at).unwrap_err().field,
            "notes"
        );
        d.notes.clear();
        d.lines[1].reason_text = "a\u{0}b".into();
        assert_eq!(
            d.submission(&h, d.started_at).unwrap_err().field,
            "lines[1].reason_text"
        );
        d.lines[1].reason_text.clear();
        let scribble = serde_json::to_string(&vec![
            vec![[1i64, 2, 3]];
            crate::visits::MAX_SIGNATURE_STROKES + 1
        ])
        .unwrap();
        let p = d
            .sign(&h, d.started_at, scribble, "iVBO".into())
            .unwrap_err();
        assert_eq!(p.field, "signature.strokes_json");
        assert!(d.signature.is_none());
    }

    #[test]
    fn only_changed_measures_and_typed_income_are_sent_and_signed() {
        let h = household();
        let mut d = filled(&h);
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let plain = d.submission(&h, d.started_at).unwrap();
        assert!(plain.measure_updates.is_empty() && plain.income.is_empty());
        assert_eq!(plain.household_size, Some(3), "the members on record");

        d.sign(&h, d.started_at, "[]".into(), "iVBO".into())
            .unwrap();
        d.edit(&h, d.started_at, |d| {
            d.set_measure_status(&h.measures[0], MeasureStatus::Done, today)
        });
        assert!(d.signature_voided, "a measure's move is signed content");
        d.edit(&h, d.started_at, |d| {
            let line = d.income_mut(IncomeKind::WageMigrant);
            line.amount = "12,000".into();
            line.evidence = true;
        });
        let v = d.submission(&h, d.started_at).unwrap();
        assert_eq!(v.measure_updates.len(), 1);
        assert_eq!(v.measure_updates[0].measure_id, h.measures[0].id);
        assert_eq!(v.measure_updates[0].done_on, Some(today));
        assert_eq!(
            v.income,
            vec![IncomeLine {
                kind: IncomeKind::WageMigrant,
                amount_fen: 1_200_000,
                evidence: true,
                note: String::new(),
            }]
        );

        // Set back as it was: nothing to send for the measure.
        d.set_measure_status(&h.measures[0], MeasureStatus::Planned, today);
        assert!(
            d.submission(&h, d.started_at)
                .unwrap()
                .measure_updates
                .is_empty()
        );
    }

    #[test]
    fn plan_and_income_problems_name_their_field() {
        let h = household();
        let mut d = filled(&h);
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let id = h.measures[0].id;
        d.set_measure_status(&h.measures[0], MeasureStatus::Dropped, today);
        let p = d.submission(&h, d.started_at).unwrap_err();
        assert_eq!(p.field, format!("measures.{id}.drop_reason"));
        d.measure_mut(&h.measures[0]).drop_reason = "户外出务工".into();
        d.income_mut(IncomeKind::Property).amount = "1.234".into();
        let p = d.submission(&h, d.started_at).unwrap_err();
        assert_eq!(p.field, "income.property.amount_fen");
        d.income_mut(IncomeKind::Property).amount = "800".into();
        d.income_mut(IncomeKind::Property).note = "租".repeat(201);
        let p = d.submission(&h, d.started_at).unwrap_err();
        assert_eq!(p.field, "income.property.note");
        d.income_mut(IncomeKind::Property).note.clear();
        d.household_size = "0".into();
        assert_eq!(
            d.submission(&h, d.started_at).unwrap_err().field,
            "household_size"
        );
    }

    #[test]
    fn a_draft_and_roster_saved_by_an_older_app_still_open() {
        let h = household();
        let d = filled(&h);
        let mut json = serde_json::to_value(&d).unwrap();
        for key in ["measures", "income", "household_size"] {
            json.as_object_mut().unwrap().remove(key);
        }
        let old: VisitDraft = serde_json::from_value(json).unwrap();
        let v = old.submission(&h, old.started_at).unwrap();
        assert!(v.measure_updates.is_empty() && v.income.is_empty());
        assert_eq!(v.household_size, None, "nothing confirmed: a v1 visit");

        let mut json = serde_json::to_value(&h).unwrap();
        for key in ["measures", "income", "confirmed_size"] {
            json.as_object_mut().unwrap().remove(key);
        }
        let old: RosterHousehold = serde_json::from_value(json).unwrap();
        assert!(old.measures.is_empty());
    }

    #[test]
    fn search_matches_name_substring_or_number_prefix() {
        let h = household();
        let roster = Roster {
            user_id: Uuid::now_v7(),
            stat_year: 2027,
            downloaded_at: Utc::now(),
            households: vec![h],
        };
        let list = roster.list();
        assert_eq!(list.households.len(), 1);
        assert_eq!(list.search("建国", None).len(), 1);
        assert_eq!(list.search("621102100", None).len(), 1);
        assert_eq!(list.search("1021", None).len(), 0);
        assert_eq!(list.search("", Some("621102100101")).len(), 1);
        assert_eq!(list.search("", Some("621102100102")).len(), 0);
        assert_eq!(
            list.villages(),
            vec![("621102100101".into(), "一村".into())]
        );
    }
}
