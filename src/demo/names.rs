//! Name pools for plausible rural Gansu households and places.

use super::rng::{Rng, Sex};

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "罗", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓", "曹", "彭", "田", "董", "袁",
    "潘", "蒋", "蔡", "杜", "魏", "吕", "丁", "任", "姚", "姜", "崔", "汪", "范", "石", "贾", "白",
    "牛", "包", "安", "祁", "拓", "令狐", "慕", "雒", "岳", "景", "秦", "薛", "闫", "雷", "侯",
    "史",
];

const MALE: &[&str] = &[
    "建", "国", "明", "军", "伟", "强", "平", "刚", "文", "华", "成", "志", "海", "林", "永", "生",
    "福", "德", "忠", "祥", "宝", "山", "斌", "鹏", "兴", "旺", "全", "有", "银", "金", "虎", "龙",
    "彦", "俊", "亮", "喜", "财", "贵", "录", "维",
];

const FEMALE: &[&str] = &[
    "秀", "英", "兰", "芳", "桂", "玲", "梅", "霞", "珍", "凤", "琴", "丽", "娟", "红", "艳", "花",
    "燕", "萍", "莲", "翠", "香", "巧", "菊", "琳", "慧", "婷", "雪", "瑞", "月", "春",
];

const PLACE_FIRST: &[&str] = &[
    "香", "青", "石", "团", "宁", "凤", "白", "李", "杏", "东", "西", "南", "北", "新", "高", "柳",
    "葛", "内", "符", "鲁", "景", "巉", "称", "花",
];

const PLACE_SECOND: &[&str] = &[
    "泉", "岚", "峡", "结", "远", "翔", "碑", "家", "园", "川", "湾", "坪", "沟", "岔", "滩", "岭",
    "庄", "堡", "河", "塬", "台", "寨", "梁", "岘",
];

pub fn surname(rng: &mut Rng) -> &'static str {
    let surname: &&str = rng.pick(SURNAMES);
    surname
}

pub fn given_name(rng: &mut Rng, sex: Sex) -> String {
    let pool = match sex {
        Sex::Male => MALE,
        Sex::Female => FEMALE,
    };
    if rng.chance(0.25) {
        rng.pick(pool).to_string()
    } else {
        format!("{}{}", rng.pick(pool), rng.pick(pool))
    }
}

pub fn person_name(rng: &mut Rng, sex: Sex) -> String {
    format!("{}{}", surname(rng), given_name(rng, sex))
}

/// A place name, distinct for each index below 24 × 24.
pub fn place(index: usize) -> String {
    let a = PLACE_FIRST[index % PLACE_FIRST.len()];
    let b = PLACE_SECOND[(index / PLACE_FIRST.len() + index * 7) % PLACE_SECOND.len()];
    let round = index / (PLACE_FIRST.len() * PLACE_SECOND.len());
    if round == 0 {
        format!("{a}{b}")
    } else {
        format!("{a}{b}{round}")
    }
}

pub fn phone(rng: &mut Rng) -> String {
    let prefix = rng.pick(&[
        "133", "138", "139", "151", "153", "177", "181", "189", "199",
    ]);
    format!("{prefix}{:08}", rng.range(0, 100_000_000))
}
