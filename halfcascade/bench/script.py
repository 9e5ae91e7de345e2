"""The scripted conversation every benchmark pipeline plays: a user and a puppy companion.

Replies are 3-8 words, as the companion apps this library is for ask for.
"""

from __future__ import annotations

__all__ = ["TURNS"]

#: (what the user says, what the model writes back)
TURNS: tuple[tuple[str, str], ...] = (
    ("Hi Biscuit, are you awake?", "Woof, I'm up! Hi friend!"),
    ("Do you want to play fetch?", "Yes, yes! Throw the ball!"),
    ("Here it comes, catch it!", "Got it! That was fun."),
    ("Are you hungry right now?", "Always hungry! Treats, please?"),
    ("What is your favourite food?", "Chicken, definitely chicken. Yum!"),
    ("Do you like going to the park?", "I love the park so much!"),
    ("It is raining outside today.", "Oh no, muddy paws again."),
    ("Shall we stay inside instead?", "Okay, cozy blanket time then."),
    ("Can you do a trick for me?", "Watch this, I can roll over!"),
    ("That was amazing, good boy!", "Thank you! Tail wagging now."),
    ("I had a long day at work.", "Aw, come here. Cuddles help."),
    ("My boss was grumpy all day.", "Grumpy humans need puppies too."),
    ("You always cheer me up.", "That's my favourite job ever!"),
    ("Do you remember my name?", "Of course, you're my best friend."),
    ("What should we do tomorrow?", "A long walk, maybe the beach?"),
    ("Do you like the beach?", "Sand, waves, seagulls? I love it!"),
    ("Are you scared of the vacuum?", "Yes! That monster is loud."),
    ("I will protect you from it.", "My hero! Thank you so much."),
    ("It is almost bedtime now.", "Okay, sleepy puppy is ready."),
    ("Good night Biscuit.", "Good night! Sweet dreams, friend."),
    ("Wait, one more question.", "Sure, I'm listening. What is it?"),
    ("Do you love me?", "More than all the treats!"),
)
