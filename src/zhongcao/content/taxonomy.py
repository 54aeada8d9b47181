"""Note categories: the vertical circles of content, with their zh-CN and en names."""

from __future__ import annotations

CATEGORIES: list[tuple[str, str, str]] = [  # (code name, 中文, English)
    ("beauty", "美妆", "Beauty"),
    ("skincare", "护肤", "Skincare"),
    ("fashion", "穿搭", "Fashion"),
    ("food", "美食", "Food"),
    ("travel", "旅行", "Travel"),
    ("home", "家居", "Home"),
    ("fitness", "健身", "Fitness"),
    ("mother_baby", "母婴", "Mother & baby"),
    ("auto", "汽车", "Auto"),
    ("digital", "数码", "Digital"),
    ("appliances", "家电", "Appliances"),
    ("pets", "萌宠", "Pets"),
    ("books", "读书", "Books"),
    ("education", "教育", "Education"),
    ("career", "职场", "Career"),
    ("health", "健康", "Health"),
    ("outdoor", "户外", "Outdoor"),
    ("photography", "摄影", "Photography"),
    ("games", "游戏", "Games"),
    ("film_music", "影音", "Film & music"),
    ("crafts", "手工", "Crafts"),
    ("hotels", "酒店", "Hotels"),
    ("other", "其他", "Other"),
]
CODE = {name: i for i, (name, _, _) in enumerate(CATEGORIES)}
N_CATEGORIES = len(CATEGORIES)
