"""Words for the two-friend dialogues of ``corpus_dialogue.py``.

Written apart from ``corpus_data.py`` and in another register: long, chatty turns between
two friends, where the partner's reply usually repeats the topic words of the news it
answers (as people do), so the words of a question often match several turns.
"""

from __future__ import annotations

__all__ = [
    "BOOKS",
    "CHATTER",
    "CLOSERS",
    "CONCERTS",
    "FAMILY",
    "HOBBIES",
    "JOBS",
    "OPENERS",
    "PEOPLE",
    "PETS",
    "REACTIONS",
    "TRIPS",
    "WHEN",
]

PEOPLE = (
    "Marisol Declan Anika Tobias Wren Callum Beatriz Jasper Noor Elliot Saoirse Malik Ines "
    "Rowan Freya Desmond Paloma Gideon Astrid Kwame Celeste Ruben Odette Lars Yara Quentin"
).split()

WHEN = ("yesterday", "last weekend", "last Tuesday", "a few days ago", "last week", "on Friday")

# hobby, gerund, place, something made or done, feeling it brings, an inference question
# that does not name the hobby, and how the friend says it helps (no hobby words)
HOBBIES = (
    ("pottery", "doing pottery", "the community arts center", "a lopsided blue mug",
     "Would {p} enjoy a weekend ceramics workshop?",
     "It's honestly the one place my brain goes quiet. Two hours with my hands in the wheel "
     "and I forget every email I haven't answered."),
    ("rock climbing", "climbing", "the bouldering gym downtown", "my first V3 route",
     "Is {p} likely to enjoy an adventurous outdoor vacation?",
     "My arms are sore all the time but I sleep like a baby now, and I feel way stronger."),
    ("painting", "painting with watercolors", "a class at the library", "a little lake landscape",
     "Would {p} probably like a trip to an art museum?",
     "It's a way to slow down. I notice colors everywhere now, even in the grocery store."),
    ("running", "running", "the river trail", "a 10k without stopping",
     "Would {p} be interested in signing up for a marathon?",
     "It has done wonders for my mood, I'm calmer and way less anxious at work now."),
    ("baking", "baking sourdough", "my tiny kitchen", "a loaf that actually rose",
     "Would {p} like a cookbook as a birthday present?",
     "There's something so satisfying about the whole process. It makes Sundays feel slow."),
    ("gardening", "gardening", "the allotment by the school", "a whole bed of tomatoes",
     "Does {p} probably enjoy spending time outside in nature?",
     "Getting my hands in the dirt every morning is better than any therapy I've tried."),
    ("guitar", "learning guitar", "lessons with a neighbor", "the first song all the way through",
     "Would {p} enjoy going to an open mic night?",
     "My fingertips hurt like crazy but I feel like a teenager again, it's so much fun."),
    ("yoga", "doing yoga", "a studio near my office", "a headstand for five seconds",
     "Is {p} someone who cares about mindfulness and wellbeing?",
     "My back pain is basically gone and I feel much more patient with the kids."),
    ("photography", "taking photos", "a weekend workshop in the old town", "a shot of a heron",
     "Would {p} appreciate a new camera lens as a gift?",
     "It makes me actually look at things instead of scrolling past them."),
    ("swimming", "swimming laps", "the public pool", "a full mile",
     "Is {p} likely to enjoy a beach holiday?",
     "It clears my head, and my shoulders finally stopped aching from the desk job."),
    ("knitting", "knitting", "a circle at the yarn shop", "a scarf for my dad",
     "Would {p} like a gift card to a craft store?",
     "It keeps my hands busy in the evenings, so I'm not glued to my phone anymore."),
    ("chess", "playing chess", "a club that meets at the cafe", "my first tournament win",
     "Does {p} enjoy strategy games?",
     "It's teaching me patience. I used to rush everything and now I think three steps ahead."),
)  # fmt: skip

# kind, names, a breed or look, something it did (detail)
PETS = (
    ("dog", ("Biscotti", "Juno", "Rufus", "Maple", "Pretzel"), "a scruffy terrier mix",
     "chewed through the strap of my favorite sandals"),
    ("cat", ("Noodle", "Saffron", "Pistachio", "Clementine"), "a grey tabby with white socks",
     "knocked a whole plant off the windowsill at 3 am"),
    ("rabbit", ("Thistle", "Dumpling", "Clover"), "a floppy-eared lop",
     "figured out how to open the pantry door"),
    ("puppy", ("Bean", "Scout", "Poppy"), "a golden retriever with huge paws",
     "ate an entire loaf of bread off the counter"),
    ("parrot", ("Kiwi", "Mango", "Captain"), "a green conure",
     "learned to copy the sound of the microwave"),
)  # fmt: skip

# relative, what happened (past, base form), a detail, the question about it, detail names
FAMILY = (
    ("sister", "had her baby", "have her baby",
     "He's a little boy called {n}, eight pounds and so much hair!",
     "What did {p}'s sister name her baby?", ("Theo", "Luca", "Arlo", "Milo")),
    ("brother", "got engaged", "get engaged",
     "He proposed at sunrise on top of {n}, and she said yes!",
     "Where did {p}'s brother propose?", ("Mount Tam", "the ridge trail", "Ben Nevis")),
    ("mom", "retired", "retire",
     "She's already planning a cruise to {n} with her book club.",
     "Where is {p}'s mother planning to travel?", ("Alaska", "Norway", "the Greek islands")),
    ("dad", "had knee surgery", "have knee surgery",
     "The recovery is slow, he's stuck doing physio at {n} twice a week and hates it.",
     "Where does {p}'s father go for physical therapy?",
     ("St. Mary's", "the Riverside clinic", "Oakwood hospital")),
    ("son", "started kindergarten", "start kindergarten",
     "His teacher is Ms. {n} and he already has a best friend.",
     "What is the name of {p}'s son's teacher?", ("Alvarez", "Okafor", "Lindqvist")),
    ("daughter", "lost her first tooth", "lose her first tooth",
     "She put it under her pillow and asked for {n} instead of money, ha.",
     "What did {p}'s daughter ask the tooth fairy for?",
     ("a pony", "a unicorn sticker", "a library card")),
)  # fmt: skip

# place, how long, what they did there (shares no word with the place)
TRIPS = (
    ("Lisbon", "a long weekend", "We ate pastries every single morning and rode the old yellow "
     "tram up the hill."),
    ("Iceland", "ten days", "We soaked in hot springs and saw the northern lights from the car."),
    ("Kyoto", "two weeks", "We walked through thousands of red gates and ate way too much ramen."),
    ("the Grand Canyon", "a week", "We hiked down to the river and slept under the stars."),
    ("Vancouver Island", "a few days", "We kayaked with seals and I saw my first orca!"),
    ("Mexico City", "five days", "The museums were incredible and the tacos al pastor changed "
     "my life."),
    ("the Scottish Highlands", "a week", "It rained every day but the castles and lochs were "
     "unreal."),
    ("Barcelona", "a week", "We stared at the Sagrada Familia for an hour and lay on the beach."),
)  # fmt: skip

# band, song or moment that stood out
CONCERTS = (
    ("The Lumineers", "they played Ho Hey as the last song and everybody sang along"),
    ("Florence and the Machine", "she ran barefoot through the crowd during Dog Days"),
    ("Hozier", "Take Me to Church gave me goosebumps"),
    ("the Blue Room Jazz Trio", "the drummer did a ten-minute solo"),
    ("Rumours, the Fleetwood Mac tribute band", "Dreams sounded exactly like the record"),
)

# old role, new role, workplace, detail
JOBS = (
    ("nurse", "charge nurse", "the children's hospital", "I'm in charge of a whole ward now"),
    (
        "teacher",
        "head of the science department",
        "Lincoln Middle School",
        "I get to redesign the whole curriculum",
    ),
    ("designer", "design lead", "a small app startup", "I'm managing three people"),
    ("accountant", "senior auditor", "the firm downtown", "I'll be traveling for clients a lot"),
    ("chef", "sous chef", "an Italian place on Fifth", "I'm running the kitchen on weekends"),
    ("developer", "engineering manager", "the logistics company", "I barely write code anymore"),
)

# title, what it is about
BOOKS = (
    (
        "Educated",
        "a woman who grew up off the grid and taught herself enough to get into Cambridge",
    ),
    ("The Midnight Library", "a library where every book is a different life you could have lived"),
    ("Project Hail Mary", "a teacher who wakes up alone on a spaceship"),
    ("Braiding Sweetgrass", "plants and indigenous knowledge"),
    ("Circe", "the witch from the Odyssey, told from her side"),
    ("Becoming", "Michelle Obama's life before and after the White House"),
)

OPENERS = (
    "Hey {o}! It's been forever, how have you been?",
    "Hi {o}, so good to hear from you! What's new with you?",
    "Morning {o}! Sorry I went quiet, this week has been absolutely crazy.",
    "{o}! I was literally just thinking about you. How's everything going?",
    "Hey hey! Long time no talk. How's the family?",
)
CLOSERS = (
    "Anyway, I should get going, but this was so nice. Talk soon!",
    "Okay I have to run and pick up the kids, catch up later?",
    "Thanks for listening, {o}, I really needed this chat. Take care!",
    "Let's not wait so long next time! Bye for now.",
    "Alright, dinner's burning, ha. Speak soon!",
)
REACTIONS = (
    "That's amazing, {o}! I'm so happy for you, you totally deserve it.",
    "Wow, that sounds like a lot. How are you holding up?",
    "Haha, I love that so much. You always find the fun in everything.",
    "Oh no, that's rough. I hope things get easier soon.",
    "That's so sweet. Moments like that make all the hard days worth it.",
    "I totally get that. Life gets so busy sometimes, it's hard to keep up.",
    "Honestly, I'm proud of you. Not everybody would have the courage to do that.",
    "Ha! That is such a you thing to do.",
    "You're so right, it's the little things that matter.",
    "That makes me smile, thanks for sharing it with me.",
)
CHATTER = (
    "Things have been pretty hectic with work, but I'm trying to take it one day at a time.",
    "The weather has been so weird lately, sunny one minute and pouring the next.",
    "I've been trying to drink more water and go to bed earlier. Trying being the key word.",
    "We finally cleaned out the garage this weekend. So much stuff we don't need!",
    "I binged a whole season of that detective show, no regrets.",
    "The kids have been fighting over the tablet nonstop, send help.",
    "I've been cooking a lot more at home to save money, it's actually kind of fun.",
    "My car made a weird noise again so that's another trip to the mechanic.",
    "I've been feeling a bit burnt out, but talking to friends really helps.",
    "We had friends over for dinner and stayed up way too late talking.",
    "I finally repainted the hallway, it looks like a different house.",
    "Honestly not much new, just work, sleep, repeat. How about you?",
    "I started journaling again in the mornings, it helps me sort my thoughts.",
    "My neighbor keeps leaving zucchini on my porch, I don't know what to do with it all.",
    "I've been trying to spend less time on my phone before bed.",
    "We went to the farmers market and bought way too many peaches.",
)
