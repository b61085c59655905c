#!/usr/bin/env python3
"""Writes src/auth/common_passwords.txt: the passwords (and password stems)
that `src/auth/password.rs` refuses. Composed, not downloaded: passwords that
top every published leak list, Chinese pinyin words and names, keyboard
walks, digit patterns and the app's own words. The Rust check lower-cases a
password and strips digits and symbols from both ends before looking the
stem up, so `woaini1314` and `Password2026!` are caught by their stems
`woaini` and `password`; only stems of three or more characters are kept.

Run: python3 scripts/gen-common-passwords.py
"""
import itertools
import pathlib

GLOBAL = """
password passw0rd p@ssword p@ssw0rd pass pass123 passwd secret letmein welcome welcome1
iloveyou iloveu loveyou lovely love monkey dragon master shadow sunshine princess qwerty
qwert qwer football baseball basketball soccer hockey tennis golfer superman batman spiderman
trustno1 michael jennifer jordan jordan23 hunter ranger buster thomas robert daniel andrew
joshua matthew anthony charlie jessica ashley amanda michelle nicole daniel hannah samantha
freedom whatever starwars pokemon computer internet google youtube facebook twitter
mustang harley corvette ferrari porsche mercedes chelsea arsenal liverpool manchester barcelona
killer hello hello123 hellokitty kitty cookie chocolate cheese pepper ginger summer winter
spring autumn flower orange banana apple cherry lemon mango peach strawberry
angel angels baby babygirl babyboy blessed jesus christ heaven faith family friends friend
forever lucky lucky7 magic matrix merlin mickey minnie money money1 naruto ninja phoenix
pussy sexy silver golden diamond crystal purple yellow black white green blue red
tigger tiger lion eagle falcon wolf bear panda dolphin butterfly
zxcvbnm asdfgh asdfghjkl qazwsx qweasd qweasdzxc zaq12wsx 1qaz2wsx 1q2w3e4r 1q2w3e 1q2w3e4r5t
abc abcd abcde abcdef abc123 abcd1234 a1b2c3 a1b2c3d4 aa123456 aaa111 qwe qweqwe asd asdasd
admin administrator root toor user guest test tester testing demo default changeme system
login access master1 super superuser manager office office123 company
qq qqq qqqq qq123 qqqqqq 163 126 sina sohu baidu taobao alipay weixin wechat tencent
fuckyou fuck shit bitch asshole
iloveyou1 princess1 monkey1 dragon1 soccer1 sunshine1 shadow1 master12 letmein1
zzz zzzzzz xxx xxxxxx aaa aaaaaa
""".split()

PINYIN_WORDS = """
woaini woaiwojia woaini1314 woainimen woaiwoziji woaiwoma woaibaba woaimama woaizhongguo
aini aiwo aini1314 ainiyiwannian ainiyibeizi yongyuan yongyuanaini wodemima mima mimamima
wodeai wodejia wojia zhongguo zhonghua beijing shanghai guangzhou shenzhen tianjin chongqing
lanzhou gansu dingxi tianshui wuwei zhangye jiuquan baiyin pingliang qingyang longnan linxia
gannan jiayuguan jinchang anding tongwei lintao longxi weiyuan zhangxian minxian
xian xianyang shaanxi sichuan chengdu wuhan nanjing hangzhou suzhou xiamen fuzhou
baobei baobao laopo laogong qinqin qinai xiaobao xiaobei xiaoxiao xiaoming xiaohong xiaoli
xiaowang xiaozhang xiaomei xiaoyu xiaolong xiaohu xiaoqiang xingfu kuaile pingan pinganfu
jiayou xiexie nihao haha hehe hahaha hehehe shuai shuaige meinv meimei gege jiejie didi
fuqi fuqiang fugui facai gongxifacai caishen ruyi jixiang wanshiruyi shengri shengrikuaile
tiantian mingming yiyi lele huahua dada nana jingjing tingting lili fangfang yanyan
zhuzhu zhu gou mao niuniu maomao goudan ergou xiaogou xiaomao
aiqing yuanfen xinyuan mengxiang xiwang zhufu kuaile888 shunli dashun liuliu
bangfu daohu fupin tuopin xiangcun cunwei cunzhang zhenzhang xianzhang shuji ganbu
zhengfu renmin gongzuo bangong bangongshi danwei jiaoyu yiliao
sanqi wuyi guoqing chunjie zhongqiu duanwu yuandan
wangba wangbadan shabi shagua bendan
""".split()

SURNAMES = """
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao
zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang
yu du ye cheng wei su lu ding ren shen yao jin fu zhong cui tan lv lu jia
""".split()

GIVEN = """
wei fang na min jing li qiang lei jun yang yong yan jie juan tao ming chao xiu xia ping
gang gui hua hong ying ling fei bin bo hui jian lin mei yu ning lan xin hao yu yun kai
""".split()

ROWS = ["`1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./", "abcdefghijklmnopqrstuvwxyz",
        "01234567890", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "qazwsxedcrfvtgbyhnujmikolp",
        "zaq1xsw2cde3vfr4bgt5nhy6mju7", "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0",
        "qweasdzxc", "qweasdzxcrtyfghvbn", "147258369", "741852963", "159753", "951357", "123qwe",
        "123qweasd", "123qweasdzxc", "1234qwer", "1234qwerasdf", "1234qwerasdfzxcv", "qwer1234",
        "zxcv1234", "asdf1234", "abcd1234", "1qazxsw2", "!qaz@wsx", "!qaz2wsx", "1qaz@wsx",
        "!@#$%^&*()", "!@#$%^", "qwerasdfzxcv", "poiuytrewq", "lkjhgfdsa", "mnbvcxz"]

LOVE = ["520", "521", "1314", "5201314", "1314520", "5211314", "7758521", "5201314520",
        "1314521", "584520", "520520", "3344520", "2010520", "1314925", "9421", "0451",
        "168", "888", "666", "999", "8888", "6666", "9999", "1688", "16888", "518", "5188"]


def walks():
    out = set()
    for row in ROWS:
        for s in (row, row[::-1]):
            for n in range(6, len(s) + 1):
                for i in range(len(s) - n + 1):
                    out.add(s[i:i + n])
    return out


def digit_patterns():
    out = set()
    for unit_len in range(1, 5):
        for unit in itertools.product("0123456789", repeat=unit_len):
            u = "".join(unit)
            if unit_len >= 3 and len(set(u)) == 1:
                continue
            if unit_len == 4 and not (u == u[::-1] or u in "0123456789" or u in "9876543210"):
                continue
            for total in (16, 20):
                out.add((u * total)[:total])
    seq = "0123456789" * 2
    for n in range(10, 13):
        for i in range(10):
            out.add(seq[i:i + n])
            out.add(seq[i:i + n][::-1])
    for a, b in itertools.permutations(LOVE, 2):
        if len(a + b) >= 10:
            out.add(a + b)
    out.update(["1122334455", "11223344556677", "1234554321", "12344321", "1234512345",
                "1231231234", "1234567890", "0987654321", "1357924680", "2468013579",
                "1472583690", "1593574862", "9638527410"])
    return out


def main():
    words = set(GLOBAL) | set(PINYIN_WORDS)
    names = {s + g for s in SURNAMES for g in GIVEN}
    names |= {s + g + g for s in SURNAMES for g in GIVEN[:20]}
    names |= {g + s for s in SURNAMES[:10] for g in GIVEN[:10]}
    entries = set()
    for w in words | names | walks():
        w = w.lower()
        if len(w) >= 3:
            entries.add(w)
    for love in LOVE:
        for w in ["woaini", "aini", "iloveyou", "wo", "ai", "woai", "baobei", "laopo", "laogong"]:
            if len(w + love) >= 10:
                entries.add(w + love)
    # Digits alone under 16 are refused by rule (birthdays, phone numbers),
    # so only longer digit patterns need listing.
    entries |= {d for d in digit_patterns() if len(d) >= 16 or not d.isdigit()}
    out = pathlib.Path(__file__).resolve().parent.parent / "src/auth/common_passwords.txt"
    out.write_text("\n".join(sorted(entries)) + "\n", encoding="utf-8")
    print(f"{len(entries)} entries written to {out}")


if __name__ == "__main__":
    main()
