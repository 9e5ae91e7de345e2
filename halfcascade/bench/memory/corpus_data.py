"""Words and templates for the synthetic companion conversations (see ``corpus.py``).

Templates use ``{u}`` for the user's name, ``{they}``/``{their}``/``{them}`` for the user's
pronouns and slot names for the rest. Questions are written in other words than the
answers on purpose: an answer that repeats the question is the easy case.
"""

from __future__ import annotations

from .corpus_filler import COMPANION_ACKS, FILLER, PHOTOS

__all__ = [
    "ACTIVITIES",
    "AFTER_EVENTS",
    "BENEFITS",
    "CHANGES",
    "COMPANION_ACKS",
    "COMPANION_NAMES",
    "DIRECT",
    "FILLER",
    "GIFTS",
    "GOALS",
    "MILESTONES",
    "NAMES",
    "PETS",
    "PET_NAMES",
    "PHOTOS",
    "PLACES",
    "RELATIVES",
    "TRIPS",
    "USER_NAMES",
]

USER_NAMES = (
    "Nora Aiden Priya Mateo Chloe Tariq Ingrid Kofi Lucia Dmitri Hana Rafael Esme Jonah "
    "Amara Felix Yuki Omar Greta Theo Leila Sven Imani Bruno Rosa Kenji Maeve Idris Talia Ezra"
).split()
COMPANION_NAMES = ("Biscuit", "Pixel", "Juniper", "Moss", "Echo", "Clover")
NAMES = (
    "Pepper Mochi Olive Biscuit Ziggy Luna Milo Hazel Pickles Tofu Waffles Juniper Ollie "
    "Maple Sprout Nugget Bean Clementine Rocket Pumpkin Basil Winnie Atlas Poppy Kiwi "
    "Scout Marble Fig Sunny Otis Peanut Truffle Dottie Remy Bramble Noodle Cosmo Blue"
).split()
PET_NAMES = NAMES

# (noun used when telling, nouns a question may use instead)
PETS = (
    ("puppy", ("dog", "puppy", "pup")),
    ("kitten", ("cat", "kitten")),
    ("rescue dog", ("dog", "rescue dog")),
    ("bunny", ("rabbit", "bunny")),
    ("parrot", ("bird", "parrot")),
    ("hamster", ("hamster", "pet hamster")),
    ("tortoise", ("tortoise", "pet tortoise")),
    ("pony", ("horse", "pony")),
    ("beagle", ("dog", "beagle")),
    ("tabby", ("cat", "tabby cat")),
)
RELATIVES = (
    ("sister", ("sister",)),
    ("brother", ("brother",)),
    ("mum", ("mother", "mom", "mum")),
    ("dad", ("father", "dad")),
    ("grandma", ("grandmother", "grandma")),
    ("niece", ("niece",)),
    ("nephew", ("nephew",)),
    ("best friend", ("best friend", "closest friend")),
    ("coworker", ("colleague", "coworker")),
    ("partner", ("partner", "significant other")),
    ("son", ("son", "boy")),
    ("daughter", ("daughter", "girl")),
    ("neighbour", ("neighbor", "neighbour")),
    ("aunt", ("aunt", "auntie")),
)
# (how the user mentions it, how a question names it)
ACTIVITIES = (
    ("I've been running most mornings", "running"),
    ("I finally joined a yoga class", "yoga"),
    ("I started swimming laps at the pool", "swimming"),
    ("I've picked up painting again, watercolours mostly", "painting"),
    ("I signed up for a pottery class", "pottery"),
    ("I've been spending hours in the garden", "gardening"),
    ("We've been hiking every weekend", "hiking"),
    ("I've been baking bread from scratch", "baking"),
    ("I started going to the climbing gym", "climbing"),
    ("I've been cycling to work", "cycling"),
    ("I taught myself to knit", "knitting"),
    ("I'm learning guitar", "playing guitar"),
    ("I've been practising piano every evening", "piano"),
    ("I joined a chess club", "chess"),
    ("I've been out with my camera a lot", "photography"),
    ("I've started journaling before bed", "journaling"),
    ("I've been meditating for ten minutes a day", "meditation"),
    ("I started salsa lessons", "dancing"),
    ("I took up boxing at the gym downtown", "boxing"),
    ("I've been volunteering at the animal shelter", "volunteering"),
    ("I'm doing a Spanish course online", "learning Spanish"),
    ("I've been playing tennis with a group from work", "tennis"),
    ("I joined a community choir", "singing in the choir"),
    ("I've been doing calligraphy", "calligraphy"),
    ("I got into birdwatching", "birdwatching"),
    ("I've been woodworking in the garage", "woodworking"),
    ("I started rowing on the river", "rowing"),
    ("I joined a book club", "the book club"),
)
# (how the user says it helped, without naming the activity)
BENEFITS = (
    "It's done wonders for my mental health, honestly.",
    "My sleep is so much better since.",
    "It clears my head like nothing else.",
    "My back pain has almost disappeared.",
    "I feel way more confident these days.",
    "I've met so many lovely people through it.",
    "It's made me a lot more patient.",
    "My anxiety is way down.",
    "It keeps my mood steady through the winter.",
    "I can focus so much better at work now.",
    "It's the only time my brain goes quiet.",
    "My knees stopped aching, which I did not expect.",
    "It's taught me to slow down and breathe.",
    "I'm not snacking at night anymore, weirdly.",
    "My blood pressure came down, the doctor was thrilled.",
    "I feel less lonely on weekends.",
    "It gave me a reason to get outside every day.",
    "I'm so much less grumpy in the mornings.",
)
# (trip, question words, places)
TRIPS = (
    ("road trip", "road trip"),
    ("camping trip", "camping trip"),
    ("beach holiday", "beach vacation"),
    ("long weekend away", "weekend getaway"),
    ("ski trip", "skiing holiday"),
    ("honeymoon", "honeymoon"),
    ("work trip", "business trip"),
    ("girls' trip", "trip with friends"),
)
PLACES = (
    "All the way up the coast to Big Sur.",
    "Lisbon! Three days of custard tarts.",
    "A tiny cabin outside Asheville.",
    "Kyoto, during the maple season.",
    "The Lake District, it rained every day.",
    "We ended up in Oaxaca.",
    "A campsite in Yosemite Valley.",
    "Reykjavik, we saw the northern lights.",
    "Cornwall, near St Ives.",
    "Banff, the lakes were unreal.",
    "Marrakech, the markets were amazing.",
    "The Outer Banks, like when I was little.",
    "Santorini, it was pricier than expected.",
    "A farm stay in Tasmania.",
    "Vancouver Island, mostly kayaking.",
)
# (occasion, gift answer)
GIFTS = (
    "A pottery set, she's been wanting one forever.",
    "Concert tickets for that band they adore.",
    "A fancy cookbook with a handwritten note.",
    "A cashmere scarf in their favourite green.",
    "A framed photo of all of us at the lake.",
    "A telescope, a small one.",
    "A voucher for a hot-air balloon ride.",
    "A vintage record player I found at a flea market.",
    "A hand-knitted blanket, took me months.",
    "A weekend spa pass.",
    "A bike helmet with little cat ears.",
    "A personalised star map.",
    "A sourdough starter and a proofing basket.",
    "Noise-cancelling headphones.",
)
OCCASIONS = ("birthday", "graduation", "anniversary", "retirement party", "housewarming")
# goals for multi-fact questions: (companion questions, question to ask, answers)
GOALS = (
    (
        ("How do you usually unwind after a long day?", "What helps you relax?"),
        "What does {u} do to relax?",
        (
            "A hot bath and a podcast, every time.",
            "Honestly, long walks with headphones in.",
            "I bake something, the kneading calms me.",
            "I sit on the balcony with tea and watch the street.",
            "Video games with my brother online.",
            "I do a crossword on paper, no screens.",
        ),
    ),
    (
        ("What do you and the kids get up to on weekends?", "What activities do the kids like?"),
        "What activities does {u} do with {their} kids?",
        (
            "We go to the science museum, they love the dinosaurs.",
            "Pancakes and then the park, that's the ritual.",
            "We built a treehouse together this spring.",
            "Board games, Monopoly ends in tears though.",
            "Swimming lessons on Saturday mornings.",
            "We bake cookies and decorate them badly.",
        ),
    ),
    (
        ("What do you do to keep your yoga practice fresh?", "Any yoga tips lately?"),
        "What ways does {u} use to improve {their} yoga practice?",
        (
            "I follow a teacher on YouTube for new flows.",
            "I bought blocks and a strap, game changer.",
            "A weekend retreat in the hills did a lot.",
            "I journal after each session about what felt tight.",
            "I practise with my friend so we keep each other honest.",
        ),
    ),
    (
        ("What have you been cooking lately?", "Made any good dishes this week?"),
        "What dishes has {u} been making?",
        (
            "A big pot of lentil soup most Sundays.",
            "I tried homemade dumplings, messy but tasty.",
            "Shakshuka for brunch, my new favourite.",
            "Slow-cooked chili for the whole week.",
            "Fresh pasta, I finally got the dough right.",
        ),
    ),
    (
        ("Which books have you been reading?", "Read anything good recently?"),
        "What books has {u} read recently?",
        (
            "Piranesi, it was so strange and beautiful.",
            "A memoir by a lighthouse keeper.",
            "I reread Pride and Prejudice for comfort.",
            "Project Hail Mary, couldn't put it down.",
            "A biography of Marie Curie.",
        ),
    ),
    (
        ("How are you staying in shape these days?", "What are you doing for exercise?"),
        "What does {u} do for exercise?",
        (
            "Spin classes twice a week.",
            "I walk the dog for an hour every morning.",
            "Kettlebells in the living room.",
            "I swim at the lido when it's open.",
            "Stairs instead of the lift, every day.",
        ),
    ),
)
# (how the user announces it, question, relative day phrase)
MILESTONES = (
    ("I started at the new clinic {when}!", "When did {u} start {their} new job?"),
    ("We moved into the new flat {when}.", "When did {u} move to {their} new apartment?"),
    ("I ran my first half marathon {when}!", "When did {u} run a half marathon?"),
    ("I passed my driving test {when}!", "When did {u} get {their} driver's license?"),
    ("We got engaged {when}!", "When did {u} get engaged?"),
    ("I handed in my thesis {when}.", "When did {u} submit {their} dissertation?"),
    ("My manuscript went to the publisher {when}.", "When did {u} send {their} book off?"),
    ("I had the knee surgery {when}.", "When was {u}'s operation?"),
    ("The bakery opened its doors {when}!", "When did {u}'s shop open?"),
    ("I quit smoking {when}, fingers crossed.", "When did {u} stop smoking?"),
)
WHEN = ("yesterday", "last Tuesday", "on Saturday", "this morning", "last week", "on Friday")
# (event mention, companion follow-up, what happened after)
AFTER_EVENTS = (
    "The concert was last night!",
    "The wedding was on Saturday.",
    "My exam finally happened this morning.",
    "The job interview was today.",
    "We finished the road trip yesterday.",
    "The big presentation was this afternoon.",
    "The marathon was on Sunday.",
    "My sister's recital was tonight.",
)
AFTER_FOLLOWUPS = (
    "How did it go? What did you do afterwards?",
    "Oh wow! And then what?",
    "How was it? Did you celebrate after?",
)
AFTER_ANSWERS = (
    "We grabbed ramen and walked along the river.",
    "I slept for eleven hours straight.",
    "We went for karaoke until two in the morning.",
    "I called my mum and cried a bit, happy tears.",
    "We had pizza on the floor of the empty living room.",
    "I treated myself to a massage.",
    "We drove to the coast to watch the sunrise.",
    "I went straight to the gym to burn off the nerves.",
)
AFTER_QUESTIONS = (
    "What did {u} do after the {event}?",
    "How did {u} spend the time following the {event}?",
)
# (old favourite statement, new favourite statement, question)
CHANGES = (
    (
        "My favourite band is {a}.",
        "Lately I can't stop listening to {b}.",
        "favourite band",
        ("Radiohead", "Fleetwood Mac", "Khruangbin", "Phoebe Bridgers", "ABBA", "The Strokes"),
    ),
    (
        "Coffee is my thing, {a} every morning.",
        "I switched to {b}, no more coffee.",
        "morning drink",
        ("a flat white", "an espresso", "matcha", "green tea", "chai", "hot lemon water"),
    ),
    (
        "My go-to takeaway is {a}.",
        "We order {b} every Friday now.",
        "takeout",
        ("Thai", "pizza", "sushi", "Indian", "burritos", "pho"),
    ),
)
PET_FOLLOWUPS = ("Aww! What's their name?", "What did you call them?", "Do they have a name yet?")
PET_ANSWERS = (
    "{name}! Already runs the house.",
    "We went with {name}.",
    "{name}, after my grandad.",
)
PET_QUESTIONS = ("What is the name of {u}'s {pet}?", "What did {u} name {their} {pet}?")
ACTIVITY_FOLLOWUPS = (
    "Oh nice, how's that going for you?",
    "What do you like about it?",
    "Is it helping at all?",
)
ACTIVITY_QUESTIONS = (
    "What does {u} say {activity} has been great for?",
    "How has {activity} helped {u}?",
    "What benefit does {u} get from {activity}?",
)
TRIP_INTROS = (
    "We finally did the {trip} we'd been planning.",
    "Back from the {trip}!",
    "The {trip} was everything.",
)
TRIP_FOLLOWUPS = ("Where did you end up going?", "Where did you go?", "Oh, where to?")
TRIP_QUESTIONS = (
    "Where did {u} go on {their} {trip}?",
    "What was the destination of {u}'s {trip}?",
)
GIFT_INTROS = ("My {rel}'s {occasion} was on Sunday.", "It was my {rel}'s {occasion} this week.")
GIFT_FOLLOWUPS = ("Did you get them anything?", "What did you give them?", "Any presents?")
# facts told in one turn, asked with some of the same words: (statement, question, values)
DIRECT = (
    (
        "My {rel} works as {v} now.",
        "What does {u}'s {rel} do for work?",
        (
            "a paramedic",
            "an architect",
            "a primary school teacher",
            "a sous chef",
            "a pilot",
            "a dental hygienist",
            "a carpenter",
            "a software tester",
        ),
    ),
    (
        "My {rel} just moved to {v}.",
        "Where does {u}'s {rel} live now?",
        ("Montreal", "Glasgow", "Melbourne", "Austin", "Nairobi", "Seville", "Osaka", "Denver"),
    ),
    (
        "My {rel} is allergic to {v}, so dinner was tricky.",
        "What is {u}'s {rel} allergic to?",
        ("peanuts", "shellfish", "cats", "gluten", "bee stings", "penicillin"),
    ),
    (
        "My {rel} collects {v}, the flat is full of them.",
        "What does {u}'s {rel} collect?",
        ("vinyl records", "vintage cameras", "snow globes", "comic books", "houseplants"),
    ),
)
GIFT_QUESTIONS = (
    "What did {u} give {their} {rel} for the {occasion}?",
    "What present did {u} get for {their} {rel}?",
)
