"""Note titles and bodies in Chinese, from templates and a vocabulary per category.

Search, hot queries and keyword targeting read these words, so a category's notes share its vocabulary,
and a brand's notes name the brand and its product: a consumer searching 面霜 finds the skincare notes,
and one searching the brand finds what seeded it.
"""

from __future__ import annotations

import numpy as np

from zhongcao.content import CATEGORIES

VOCABULARY: dict[str, tuple[str, ...]] = {
    "beauty": ("口红", "粉底液", "眼影", "腮红", "散粉", "睫毛膏", "遮瑕", "卸妆"),
    "skincare": ("面霜", "精华", "防晒", "面膜", "水乳", "洁面", "眼霜", "修护"),
    "fashion": ("穿搭", "大衣", "卫衣", "牛仔裤", "连衣裙", "运动鞋", "包包", "羽绒服"),
    "food": ("火锅", "咖啡", "甜品", "探店", "烘焙", "早餐", "奶茶", "小吃"),
    "travel": ("攻略", "民宿", "自驾", "海岛", "古镇", "露营", "机票", "景点"),
    "home": ("沙发", "收纳", "装修", "床垫", "窗帘", "餐桌", "灯具", "软装"),
    "fitness": ("减脂", "瑜伽", "跑步", "增肌", "普拉提", "跳绳", "蛋白粉", "健身房"),
    "mother_baby": ("奶粉", "辅食", "纸尿裤", "婴儿车", "早教", "孕期", "宝宝", "米粉"),
    "auto": ("新能源", "试驾", "SUV", "续航", "车机", "提车", "保养", "轿车"),
    "digital": ("手机", "耳机", "平板", "相机", "键盘", "笔记本", "充电宝", "手表"),
    "appliances": ("空气炸锅", "扫地机", "洗碗机", "热水器", "冰箱", "吹风机", "净水器", "空调"),
    "pets": ("猫粮", "狗粮", "猫砂", "驱虫", "宠物医院", "猫咪", "狗狗", "冻干"),
    "books": ("书单", "小说", "读书笔记", "散文", "历史", "心理学", "绘本", "诗集"),
    "education": ("考研", "雅思", "英语", "考公", "网课", "笔记", "留学", "备考"),
    "career": ("面试", "简历", "跳槽", "升职", "职场", "副业", "实习", "求职"),
    "health": ("养生", "睡眠", "中医", "体检", "维生素", "护眼", "益生菌", "养胃"),
    "outdoor": ("徒步", "登山", "骑行", "滑雪", "冲浪", "帐篷", "钓鱼", "飞盘"),
    "photography": ("调色", "构图", "人像", "胶片", "镜头", "修图", "夜景", "写真"),
    "games": ("手游", "主机", "攻略", "开黑", "皮肤", "抽卡", "联机", "新游"),
    "film_music": ("电影", "剧集", "演唱会", "歌单", "综艺", "纪录片", "音乐节", "追剧"),
    "crafts": ("编织", "手账", "黏土", "刺绣", "DIY", "串珠", "烘焙", "木工"),
    "hotels": ("酒店", "度假村", "套房", "早餐", "泳池", "亲子", "海景", "行政酒廊"),
    "other": ("日常", "分享", "生活", "好物", "记录", "碎碎念", "周末", "vlog"),
}
ADJECTIVES = ("真的绝了", "平价好用", "回购无数次", "踩雷预警", "闭眼入", "宝藏", "小众", "性价比超高", "新手必看",
              "亲测有效")
TITLES = ("{adj}！{word}{tail}", "{word}｜{adj}", "{city}{word}{tail}", "{adj}的{word}分享", "{word}怎么选？{tail}")
TAILS = ("合集", "测评", "清单", "攻略", "体验", "推荐")
BODIES = ("最近入手了{word}，{adj}。用了两周，说说真实感受。", "姐妹们！这个{word}{adj}，{city}的朋友可以去门店试试。",
          "整理了一份{word}清单，{adj}，建议收藏。", "第一次买{word}，踩了不少坑，这篇把经验都写下来了。")


def notes(n: int, category: np.ndarray, rng: np.random.Generator, *, brand: list[str | None] | None = None,
          product: list[str | None] | None = None, city: list[str] | None = None) -> list[tuple[str, str]]:
    """``n`` (title, body) pairs; a note with a brand names it and its product in both."""
    out = []
    picks = rng.integers(0, 1 << 30, size=(n, 5))
    for i in range(n):
        name = CATEGORIES[int(category[i])][0]
        words = VOCABULARY[name]
        r = picks[i]
        fill = {"word": words[r[0] % len(words)], "adj": ADJECTIVES[r[1] % len(ADJECTIVES)],
                "tail": TAILS[r[2] % len(TAILS)], "city": city[i] if city else ""}
        title = TITLES[r[3] % len(TITLES)].format(**fill)
        body = BODIES[r[4] % len(BODIES)].format(**fill)
        b = brand[i] if brand else None
        if b:
            item = (product[i] if product else None) or fill["word"]
            title = f"{b}{item}｜{fill['adj']}"
            body = f"#{b} {body} {b}的{item}值得一试。"
        out.append((title[:100], body))
    return out
