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
    # Added so the test split holds 40+ countries (capital_recall's 40 test items name 40 different
    # ones); less well known than those above, so expect recall of them to be lower. Also left out: a country whose name is a whole word of another's (Guinea in Papua New
    # Guinea, Sudan in South Sudan) or whose capital names another country (Port of Spain), since the
    # leakage check matches names as whole words; Bulgaria, whose capital is a name in PEOPLE.
    ("Iceland", "Reykjavik", "Europe"), ("Bosnia and Herzegovina", "Sarajevo", "Europe"),
    ("North Macedonia", "Skopje", "Europe"), ("Montenegro", "Podgorica", "Europe"),
    ("Liechtenstein", "Vaduz", "Europe"), ("Bahrain", "Manama", "Asia"),
    ("the United Arab Emirates", "Abu Dhabi", "Asia"), ("Bhutan", "Thimphu", "Asia"),
    ("Kyrgyzstan", "Bishkek", "Asia"), ("Tajikistan", "Dushanbe", "Asia"),
    ("Brunei", "Bandar Seri Begawan", "Asia"), ("Mali", "Bamako", "Africa"), ("Niger", "Niamey", "Africa"),
    ("Burkina Faso", "Ouagadougou", "Africa"), ("Liberia", "Monrovia", "Africa"),
    ("Sierra Leone", "Freetown", "Africa"), ("Gabon", "Libreville", "Africa"),
    ("the Democratic Republic of the Congo", "Kinshasa", "Africa"), ("Malawi", "Lilongwe", "Africa"),
    ("Eritrea", "Asmara", "Africa"), ("Mauritania", "Nouakchott", "Africa"),
    ("the Central African Republic", "Bangui", "Africa"), ("the Gambia", "Banjul", "Africa"),
    ("Mauritius", "Port Louis", "Africa"), ("Lesotho", "Maseru", "Africa"), ("Comoros", "Moroni", "Africa"),
    ("El Salvador", "San Salvador", "North America"), ("the Dominican Republic", "Santo Domingo", "North America"),
    ("Haiti", "Port-au-Prince", "North America"), ("the Bahamas", "Nassau", "North America"),
    ("Barbados", "Bridgetown", "North America"), ("Belize", "Belmopan", "North America"),
    ("Saint Lucia", "Castries", "North America"), ("Guyana", "Georgetown", "South America"),
    ("Suriname", "Paramaribo", "South America"), ("Samoa", "Apia", "Oceania"), ("Vanuatu", "Port Vila", "Oceania"),
    ("the Solomon Islands", "Honiara", "Oceania"), ("Tuvalu", "Funafuti", "Oceania"),
    ("the Marshall Islands", "Majuro", "Oceania"),
)

# Countries whose capital is left out above (accents, commas, moved, same name as the country, ...)
# but whose continent is clear: (name, continent), for the continent families only.
OTHER_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("the United States", "North America"), ("Brazil", "South America"), ("Colombia", "South America"),
    ("Bolivia", "South America"), ("Paraguay", "South America"), ("Indonesia", "Asia"),
    ("Tanzania", "Africa"), ("Myanmar", "Asia"), ("Sri Lanka", "Asia"), ("Costa Rica", "North America"),
    ("Panama", "North America"), ("Guatemala", "North America"), ("Cameroon", "Africa"), ("Togo", "Africa"),
    ("Benin", "Africa"), ("Burundi", "Africa"), ("Chad", "Africa"), ("Ukraine", "Europe"),
    ("Moldova", "Europe"), ("Bulgaria", "Europe"), ("Luxembourg", "Europe"), ("Monaco", "Europe"),
    ("Andorra", "Europe"), ("San Marino", "Europe"), ("Singapore", "Asia"), ("Kuwait", "Asia"),
    ("Mongolia", "Asia"), ("Yemen", "Asia"), ("the Maldives", "Asia"), ("Djibouti", "Africa"),
    ("the Seychelles", "Africa"), ("Turkmenistan", "Asia"), ("Grenada", "North America"),
    ("Antigua and Barbuda", "North America"), ("Trinidad and Tobago", "North America"),
)
# The continent families ask "which continent" only where the answer is one of these and not in
# dispute: no country that spans two (Russia, Turkey, Cyprus, Armenia, Azerbaijan), none in Oceania
# (continent "Australia" or region "Oceania"?), none whose name gives it away (South Africa,
# the Central African Republic).
CONTINENTS = ("Africa", "Asia", "Europe", "North America", "South America")
TRANSCONTINENTAL = ("Russia", "Turkey", "Cyprus", "Armenia", "Azerbaijan")

# --- chemical elements: (name, symbol, atomic number) --------------------------------------------
ELEMENTS: tuple[tuple[str, str, int], ...] = (
    ("hydrogen", "H", 1), ("helium", "He", 2), ("lithium", "Li", 3), ("carbon", "C", 6),
    ("nitrogen", "N", 7), ("oxygen", "O", 8), ("fluorine", "F", 9), ("neon", "Ne", 10),
    ("sodium", "Na", 11), ("magnesium", "Mg", 12), ("aluminium", "Al", 13), ("silicon", "Si", 14),
    ("phosphorus", "P", 15), ("sulfur", "S", 16), ("chlorine", "Cl", 17), ("argon", "Ar", 18),
    ("potassium", "K", 19), ("calcium", "Ca", 20), ("iron", "Fe", 26), ("copper", "Cu", 29),
    ("zinc", "Zn", 30), ("silver", "Ag", 47), ("tin", "Sn", 50), ("iodine", "I", 53),
    ("gold", "Au", 79), ("mercury", "Hg", 80), ("lead", "Pb", 82), ("uranium", "U", 92),
    ("beryllium", "Be", 4), ("boron", "B", 5), ("titanium", "Ti", 22), ("chromium", "Cr", 24),
    ("manganese", "Mn", 25), ("cobalt", "Co", 27), ("nickel", "Ni", 28), ("bromine", "Br", 35),
    ("krypton", "Kr", 36), ("xenon", "Xe", 54), ("barium", "Ba", 56), ("tungsten", "W", 74),
    ("platinum", "Pt", 78), ("radon", "Rn", 86),
    # Added so each split has more elements to compare (test: about 20). Left out: names spelled two
    # ways (caesium/cesium), and the rare earths and synthetic elements nobody would call well known.
    ("scandium", "Sc", 21), ("vanadium", "V", 23), ("gallium", "Ga", 31), ("germanium", "Ge", 32),
    ("arsenic", "As", 33), ("selenium", "Se", 34), ("rubidium", "Rb", 37), ("strontium", "Sr", 38),
    ("yttrium", "Y", 39), ("zirconium", "Zr", 40), ("niobium", "Nb", 41), ("molybdenum", "Mo", 42),
    ("ruthenium", "Ru", 44), ("rhodium", "Rh", 45), ("palladium", "Pd", 46), ("cadmium", "Cd", 48),
    ("indium", "In", 49), ("antimony", "Sb", 51), ("tellurium", "Te", 52), ("osmium", "Os", 76),
    ("iridium", "Ir", 77), ("bismuth", "Bi", 83), ("polonium", "Po", 84), ("radium", "Ra", 88),
    ("thorium", "Th", 90), ("plutonium", "Pu", 94),
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
               "Talia", "Ugo", "Vera", "Wren", "Yara", "Zane", "Kira", "Milo", "Dara", "Felix",
               # more, so the dialogue family's test split has a dozen speakers to draw from
               "Anouk", "Bram", "Cosima", "Dario", "Edda", "Fintan", "Gisela", "Hamish", "Ilse", "Jarek",
               "Kalinda", "Lorcan", "Maren", "Nils", "Odile", "Perrin", "Quinta", "Ronan", "Saskia",
               "Teodor", "Ulla", "Viggo", "Wilma", "Xander", "Ysolde", "Zelda")
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
# what the speakers of the dialogue family bring, how they get to school
PICNIC_THINGS = ("sandwiches", "lemonade", "blanket", "plates", "cups", "napkins", "salad", "cake",
                 "chairs", "ball", "juice", "cheese", "grapes", "umbrella")
TRAVEL_MODES = ("bus", "train", "bicycle", "boat", "car", "tram")

# --- verbs: (base form, simple past) -------------------------------------------------------------
# Left out: verbs with two accepted past forms (learned/learnt, dived/dove, sank/sunk, hung/hanged,
# travelled/traveled), a past the same as the base (cut, put, read), and verbs an explanation of any
# other family may well use (give, take, make, count, add, buy, bring, break, begin, know, keep):
# a test verb is a held-out fact, and the leakage check matches it as a whole word in every training
# text. The past tense family's test verbs must not turn up in other families' answers.
IRREGULAR_VERBS: tuple[tuple[str, str], ...] = (
    ("bend", "bent"), ("bite", "bit"), ("bleed", "bled"), ("blow", "blew"), ("breed", "bred"),
    ("cling", "clung"), ("creep", "crept"), ("dig", "dug"), ("drink", "drank"), ("drive", "drove"),
    ("eat", "ate"), ("feed", "fed"), ("fight", "fought"), ("flee", "fled"), ("fling", "flung"),
    ("fly", "flew"), ("forgive", "forgave"), ("freeze", "froze"), ("hide", "hid"), ("lend", "lent"),
    ("ride", "rode"), ("ring", "rang"), ("rise", "rose"), ("shake", "shook"), ("shoot", "shot"),
    ("sing", "sang"), ("sleep", "slept"), ("slide", "slid"), ("spin", "spun"), ("steal", "stole"),
    ("sting", "stung"), ("strike", "struck"), ("swear", "swore"), ("sweep", "swept"), ("swim", "swam"),
    ("swing", "swung"), ("throw", "threw"), ("wear", "wore"), ("weep", "wept"), ("stride", "strode"),
    ("withdraw", "withdrew"), ("overtake", "overtook"), ("seek", "sought"), ("teach", "taught"),
    ("catch", "caught"), ("speak", "spoke"),
)
# Regular: -ed, -d after e, y -> ied after a consonant, or a doubled final consonant.
REGULAR_VERBS: tuple[tuple[str, str], ...] = tuple((v, p) for v, p in (w.split(":") for w in """
jump:jumped cook:cooked paint:painted climb:climbed kick:kicked bake:baked dance:danced hug:hugged
clap:clapped jog:jogged yawn:yawned sneeze:sneezed whisper:whispered yell:yelled knock:knocked
pour:poured melt:melted hurry:hurried worry:worried marry:married cry:cried bounce:bounced
juggle:juggled giggle:giggled sniff:sniffed tickle:tickled whistle:whistled skate:skated sail:sailed
paddle:paddled hike:hiked hunt:hunted bark:barked chew:chewed lick:licked sip:sipped peel:peeled
chop:chopped stir:stirred boil:boiled fry:fried roast:roasted grill:grilled wipe:wiped scrub:scrubbed
glue:glued rake:raked mop:mopped plant:planted harvest:harvested wrap:wrapped zip:zipped crawl:crawled
hop:hopped stroll:strolled wander:wandered wave:waved nod:nodded wink:winked blink:blinked
frown:frowned grin:grinned shrug:shrugged sigh:sighed gasp:gasped scream:screamed shout:shouted
cheer:cheered greet:greeted kiss:kissed pray:prayed beg:begged obey:obeyed rescue:rescued
guard:guarded chase:chased trap:trapped tame:tamed brush:brushed comb:combed shave:shaved
bathe:bathed rinse:rinsed soak:soaked splash:splashed drip:dripped pat:patted rub:rubbed tug:tugged
drag:dragged grab:grabbed nap:napped hum:hummed trot:trotted skid:skidded spy:spied bury:buried
tidy:tidied dry:dried sprint:sprinted float:floated snore:snored sketch:sketched stitch:stitched
dust:dusted squeeze:squeezed stretch:stretched wiggle:wiggled wobble:wobbled tumble:tumbled
stumble:stumbled munch:munched gulp:gulped slurp:slurped nibble:nibbled sprinkle:sprinkled
mash:mashed knead:kneaded sift:sifted scoop:scooped dunk:dunked camp:camped fish:fished
""".split()))
VERBS = IRREGULAR_VERBS + REGULAR_VERBS

# --- word groups for the odd-one-out family: (singular, plural, words) ---------------------------
# Every word belongs to exactly one group, in its everyday sense (no orange, kiwi, peach, organ).
WORD_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("fruit", "fruits", ("apple", "banana", "grape", "mango", "pear", "strawberry", "pineapple",
                         "watermelon", "papaya", "coconut", "lemon", "melon")),
    ("animal", "animals", ("dog", "cat", "horse", "cow", "lion", "tiger", "rabbit", "sheep", "goat",
                           "elephant", "zebra", "monkey", "giraffe")),
    ("vehicle", "vehicles", ("car", "bus", "truck", "bicycle", "airplane", "motorcycle", "tractor",
                             "scooter", "taxi", "van")),
    ("color", "colors", ("red", "blue", "green", "yellow", "purple", "brown", "black", "white", "gray", "pink")),
    ("part of the body", "parts of the body", ("arm", "leg", "nose", "ear", "elbow", "knee", "finger",
                                               "shoulder", "ankle", "wrist", "toe", "chin")),
    ("musical instrument", "musical instruments", ("piano", "guitar", "violin", "drum", "flute", "trumpet",
                                                   "harp", "cello", "clarinet", "saxophone")),
    ("piece of clothing", "pieces of clothing", ("shirt", "jacket", "sock", "scarf", "glove", "coat",
                                                 "skirt", "sweater", "dress", "hat")),
    ("piece of furniture", "pieces of furniture", ("chair", "sofa", "desk", "bed", "shelf", "stool",
                                                   "wardrobe", "bench", "cupboard", "table")),
)
# Groups never mixed in one item, where a second grouping could be argued (yellow things: banana,
# lemon, yellow; ways to travel: horse, car, bus).
WORD_GROUP_CLASHES = ({"fruit", "color"}, {"animal", "vehicle"})


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
