"""Built-in fact tables and word lists for the task families.

Plain constants, kept as tuples (never sets) so that `rng.choice` / `rng.sample` over them is
deterministic across runs. Facts are well known and uncontroversial on purpose: the recall families
test whether the student *uses* what it knows, not whether it knows trivia.
"""
from __future__ import annotations

import functools
import hashlib

# --- countries: (name as written mid-sentence, capital, continent) -------------------------------
# Left out on purpose: capitals with accents (Brasília, Bogotá), with commas (Washington, D.C.),
# the same name as the country (Luxembourg, Panama), spelled several ways (Kyiv/Kiev, Sanaa), or
# recently moved / disputed (Indonesia, Bolivia, Israel, Tanzania, Kazakhstan, Myanmar, Sri Lanka,
# South Africa), so one exact answer is clearly right.
COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("France", "Paris", "Europe"),
    ("Germany", "Berlin", "Europe"),
    ("Italy", "Rome", "Europe"),
    ("Spain", "Madrid", "Europe"),
    ("Portugal", "Lisbon", "Europe"),
    ("the United Kingdom", "London", "Europe"),
    ("Ireland", "Dublin", "Europe"),
    ("the Netherlands", "Amsterdam", "Europe"),
    ("Belgium", "Brussels", "Europe"),
    ("Austria", "Vienna", "Europe"),
    ("Sweden", "Stockholm", "Europe"),
    ("Norway", "Oslo", "Europe"),
    ("Denmark", "Copenhagen", "Europe"),
    ("Finland", "Helsinki", "Europe"),
    ("Poland", "Warsaw", "Europe"),
    ("Greece", "Athens", "Europe"),
    ("Russia", "Moscow", "Europe"),
    ("Hungary", "Budapest", "Europe"),
    ("the Czech Republic", "Prague", "Europe"),
    ("Japan", "Tokyo", "Asia"),
    ("China", "Beijing", "Asia"),
    ("India", "New Delhi", "Asia"),
    ("South Korea", "Seoul", "Asia"),
    ("Thailand", "Bangkok", "Asia"),
    ("Vietnam", "Hanoi", "Asia"),
    ("the Philippines", "Manila", "Asia"),
    ("Iran", "Tehran", "Asia"),
    ("Saudi Arabia", "Riyadh", "Asia"),
    ("Pakistan", "Islamabad", "Asia"),
    ("Egypt", "Cairo", "Africa"),
    ("Kenya", "Nairobi", "Africa"),
    ("Nigeria", "Abuja", "Africa"),
    ("Morocco", "Rabat", "Africa"),
    ("Ethiopia", "Addis Ababa", "Africa"),
    ("Ghana", "Accra", "Africa"),
    ("Canada", "Ottawa", "North America"),
    ("Mexico", "Mexico City", "North America"),
    ("Cuba", "Havana", "North America"),
    ("Argentina", "Buenos Aires", "South America"),
    ("Peru", "Lima", "South America"),
    ("Chile", "Santiago", "South America"),
    ("Australia", "Canberra", "Oceania"),
    ("New Zealand", "Wellington", "Oceania"),
    ("Turkey", "Ankara", "Asia"),
    ("Romania", "Bucharest", "Europe"),
    ("Serbia", "Belgrade", "Europe"),
    ("Croatia", "Zagreb", "Europe"),
    ("Slovakia", "Bratislava", "Europe"),
    ("Slovenia", "Ljubljana", "Europe"),
    ("Switzerland", "Bern", "Europe"),
    ("Estonia", "Tallinn", "Europe"),
    ("Latvia", "Riga", "Europe"),
    ("Lithuania", "Vilnius", "Europe"),
    ("Albania", "Tirana", "Europe"),
    ("Malta", "Valletta", "Europe"),
    ("Cyprus", "Nicosia", "Europe"),
    ("Belarus", "Minsk", "Europe"),
    ("Armenia", "Yerevan", "Asia"),
    ("Azerbaijan", "Baku", "Asia"),
    ("Afghanistan", "Kabul", "Asia"),
    ("Bangladesh", "Dhaka", "Asia"),
    ("Nepal", "Kathmandu", "Asia"),
    ("Malaysia", "Kuala Lumpur", "Asia"),
    ("Iraq", "Baghdad", "Asia"),
    ("Syria", "Damascus", "Asia"),
    ("Jordan", "Amman", "Asia"),
    ("Lebanon", "Beirut", "Asia"),
    ("Qatar", "Doha", "Asia"),
    ("Oman", "Muscat", "Asia"),
    ("Uzbekistan", "Tashkent", "Asia"),
    ("Cambodia", "Phnom Penh", "Asia"),
    ("Laos", "Vientiane", "Asia"),
    ("North Korea", "Pyongyang", "Asia"),
    ("Algeria", "Algiers", "Africa"),
    ("Tunisia", "Tunis", "Africa"),
    ("Libya", "Tripoli", "Africa"),
    ("Sudan", "Khartoum", "Africa"),
    ("Senegal", "Dakar", "Africa"),
    ("Uganda", "Kampala", "Africa"),
    ("Zimbabwe", "Harare", "Africa"),
    ("Zambia", "Lusaka", "Africa"),
    ("Angola", "Luanda", "Africa"),
    ("Mozambique", "Maputo", "Africa"),
    ("Madagascar", "Antananarivo", "Africa"),
    ("Somalia", "Mogadishu", "Africa"),
    ("Rwanda", "Kigali", "Africa"),
    ("Namibia", "Windhoek", "Africa"),
    ("Botswana", "Gaborone", "Africa"),
    ("Venezuela", "Caracas", "South America"),
    ("Ecuador", "Quito", "South America"),
    ("Uruguay", "Montevideo", "South America"),
    ("Jamaica", "Kingston", "North America"),
    ("Honduras", "Tegucigalpa", "North America"),
    ("Nicaragua", "Managua", "North America"),
    ("Fiji", "Suva", "Oceania"),
    ("Papua New Guinea", "Port Moresby", "Oceania"),
)

# --- chemical elements: (name, symbol, atomic number) --------------------------------------------
ELEMENTS: tuple[tuple[str, str, int], ...] = (
    ("hydrogen", "H", 1),
    ("helium", "He", 2),
    ("lithium", "Li", 3),
    ("carbon", "C", 6),
    ("nitrogen", "N", 7),
    ("oxygen", "O", 8),
    ("fluorine", "F", 9),
    ("neon", "Ne", 10),
    ("sodium", "Na", 11),
    ("magnesium", "Mg", 12),
    ("aluminium", "Al", 13),
    ("silicon", "Si", 14),
    ("phosphorus", "P", 15),
    ("sulfur", "S", 16),
    ("chlorine", "Cl", 17),
    ("argon", "Ar", 18),
    ("potassium", "K", 19),
    ("calcium", "Ca", 20),
    ("iron", "Fe", 26),
    ("copper", "Cu", 29),
    ("zinc", "Zn", 30),
    ("silver", "Ag", 47),
    ("tin", "Sn", 50),
    ("iodine", "I", 53),
    ("gold", "Au", 79),
    ("mercury", "Hg", 80),
    ("lead", "Pb", 82),
    ("uranium", "U", 92),
    ("beryllium", "Be", 4),
    ("boron", "B", 5),
    ("titanium", "Ti", 22),
    ("chromium", "Cr", 24),
    ("manganese", "Mn", 25),
    ("cobalt", "Co", 27),
    ("nickel", "Ni", 28),
    ("bromine", "Br", 35),
    ("krypton", "Kr", 36),
    ("xenon", "Xe", 54),
    ("barium", "Ba", 56),
    ("tungsten", "W", 74),
    ("platinum", "Pt", 78),
    ("radon", "Rn", 86),
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# --- people: (first name, subject pronoun) -------------------------------------------------------
PEOPLE: tuple[tuple[str, str], ...] = (
    ("Anna", "she"), ("Ben", "he"), ("Carla", "she"), ("David", "he"), ("Emma", "she"),
    ("Farid", "he"), ("Grace", "she"), ("Hugo", "he"), ("Ines", "she"), ("Jack", "he"),
    ("Kate", "she"), ("Leo", "he"), ("Maria", "she"), ("Noah", "he"), ("Olivia", "she"),
    ("Pablo", "he"), ("Rosa", "she"), ("Sam", "he"), ("Tara", "she"), ("Omar", "he"),
    ("Lily", "she"), ("Victor", "he"), ("Zoe", "she"), ("Ethan", "he"), ("Mia", "she"),
    ("Ravi", "he"), ("Nina", "she"), ("Tom", "he"), ("Sofia", "she"), ("Max", "he"),
)

# Countable things for word problems, plural (every one reads fine as "N <object>").
OBJECTS = (
    "apples", "marbles", "pencils", "stickers", "cookies", "books", "cards", "stamps", "shells",
    "balloons", "eggs", "candies", "toy cars", "beads", "flowers", "crayons",
)

# --- counting categories (disjoint, every word unambiguous: no "orange", no "saw") --------------
CATEGORIES: dict[str, tuple[str, ...]] = {
    "fruit": ("apple", "banana", "cherry", "grape", "lemon", "mango", "peach", "pear", "plum",
              "strawberry", "kiwi", "melon"),
    "animal": ("dog", "cat", "horse", "cow", "lion", "tiger", "rabbit", "sheep", "goat",
               "elephant", "zebra", "monkey"),
    "vehicle": ("car", "bus", "truck", "bicycle", "train", "boat", "airplane", "motorcycle",
                "tractor", "scooter"),
    "color": ("red", "blue", "green", "yellow", "purple", "pink", "brown", "black", "white", "gray"),
}
CATEGORY_PLURALS = {"fruit": "fruits", "animal": "animals", "vehicle": "vehicles", "color": "colors"}
# Things in no category above: extra distractors for the counting lists.
OTHER_THINGS = ("chair", "table", "sofa", "desk", "lamp", "hammer", "shovel", "spoon", "cup",
                "pillow", "clock", "window", "shoe", "hat")

# Words for sorting: common, short, lower case.
SORT_WORDS = (
    "apple", "bridge", "candle", "dragon", "eagle", "forest", "garden", "honey", "island",
    "jacket", "kitten", "lemon", "mountain", "needle", "ocean", "pepper", "queen", "river",
    "salt", "tiger", "umbrella", "violin", "window", "yogurt", "zebra", "basket", "cloud",
    "desert", "feather", "guitar", "hammer", "ladder", "mirror", "pillow", "rocket", "spoon",
    "tomato", "wagon",
)

# --- sentiment review pieces ---------------------------------------------------------------------
PRODUCTS = ("blender", "backpack", "phone case", "desk lamp", "coffee maker", "keyboard",
            "water bottle", "vacuum cleaner", "umbrella", "tent", "toaster", "office chair",
            "electric kettle", "suitcase", "pair of headphones", "pair of running shoes")
MOVIES = ("movie", "film", "comedy", "thriller", "documentary", "animated film", "sci-fi movie",
          "musical")
POSITIVE_ADJ = ("excellent", "wonderful", "fantastic", "great", "amazing", "superb")
NEGATIVE_ADJ = ("terrible", "awful", "disappointing", "horrible", "dreadful", "poor")
PRODUCT_POSITIVE = ("It works perfectly and I love it.", "I would happily buy it again.",
                    "It is the best purchase I have made this year.",
                    "I highly recommend it to everyone.")
PRODUCT_NEGATIVE = ("It broke after two days and I want my money back.",
                    "I regret buying it.", "It was a complete waste of money.",
                    "I would not recommend it to anyone.")
MOVIE_POSITIVE = ("The acting was brilliant and I loved every minute.",
                  "I would happily watch it again.", "I highly recommend it to everyone.",
                  "It made me laugh and smile the whole time.")
MOVIE_NEGATIVE = ("The plot was dull and I almost fell asleep.",
                  "I walked out halfway through.", "It was a complete waste of time.",
                  "I would not recommend it to anyone.")

# --- invented names for the passage family (so the answer cannot be recalled) -------------------
FIRST_NAMES = ("Mara", "Tobin", "Elsa", "Ivo", "Nadia", "Oren", "Lena", "Piet", "Rhea", "Soren",
               "Talia", "Ugo", "Vera", "Wren", "Yara", "Zane", "Kira", "Milo", "Dara", "Felix")
SURNAMES = ("Vellick", "Orrenby", "Taskovar", "Quennel", "Brisault", "Halvane", "Morrek",
            "Pellinor", "Stavik", "Trennow", "Ulvara", "Zorbeck", "Kestrin", "Fallowe",
            "Novrik", "Coramb", "Drelling", "Yorvane")
TOWN_PREFIXES = ("Quill", "Brel", "Dorn", "Fenn", "Kest", "Mirr", "Ostr", "Pell", "Tarr",
                 "Vell", "Yarr", "Zenn", "Harr", "Lorr")
TOWN_SUFFIXES = ("ford", "mere", "wick", "stead", "haven", "moor", "holm", "gate", "dale", "by")
COMPANY_STEMS = ("Brightloom", "Copperfen", "Starwick", "Ambervale", "Nettlebrook", "Glimmerfield",
                 "Ironpetal", "Mossgrove", "Silverquay", "Thistledown", "Rookmere", "Larkspire")
COMPANY_KINDS = ("Works", "Crafts", "Makers", "Company")
RIVERS = ("Orla", "Venn", "Tamsk", "Illow", "Brisk", "Marrow", "Sabel", "Quenna")
SUBJECTS = ("chemistry", "music", "history", "painting", "engineering", "botany", "law",
            "medicine", "architecture", "mathematics")
SHOPS = ("bakery", "bookshop", "bicycle shop", "flower shop", "tea house", "pottery studio",
         "toy shop", "cheese shop")
PRODUCTS_MADE = ("wooden toys", "glass bottles", "paper lanterns", "frying pans", "wool blankets",
                 "leather bags", "clay pots", "garden tools", "candles", "rope")
FESTIVALS = ("apple", "lantern", "kite", "cheese", "boat", "honey", "bread", "flower")


# --- split partition -------------------------------------------------------------------------
# Fact tables are dealt to splits by a hash of each entry's name, so a test item's facts (a
# capital, an element, a person, an invented town) never appear in any training item or training
# answer: the held-out items test what the student can do, not what it memorised from training
# (orca2_kit.tasks.check_leakage checks it on every run). About 30% test, 20% dev, 50% train;
# stable across runs and table edits (an entry's split depends on its name alone).
SPLIT_SHARES = (("test", 3), ("dev", 2), ("train", 5))


def split_of(key: str) -> str:
    bucket = int(hashlib.sha256(f"orca2-kit split:{key}".encode()).hexdigest()[:8], 16) % 10
    for split, share in SPLIT_SHARES:
        if bucket < share:
            return split
        bucket -= share
    raise AssertionError("unreachable")


def _key(entry) -> str:
    return str(entry[0] if isinstance(entry, tuple) else entry)


@functools.lru_cache(maxsize=None)
def split_pool(table: tuple, split) -> tuple:
    """The entries of `table` a `split` may draw from (the whole table when split is None)."""
    if split is None:
        return table
    pool = tuple(e for e in table if split_of(_key(e)) == split)
    if len(pool) < 3:
        raise ValueError(f"fact table with {len(table)} entries leaves only {len(pool)} to split '{split}'")
    return pool
