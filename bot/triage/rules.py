"""The red-flag lexicons and patterns, one block per flag; :mod:`bot.triage.red_flags` combines them.

Patterns are built from symptom lexicons (synonyms, lay words, slang) and word windows
(:func:`near`: two lexicons within a few words, either order), not from literal test phrases.
``RAW`` patterns run on the normalized text because their negation *is* the emergency ("can't
breathe", "won't stop bleeding", "don't want to be here"); the rest run on the negation-masked
text. No rule needs "I": third person ("my dad", "grandma", "my 2 wk old") matches the same way.
"""

from __future__ import annotations

import re

_W = r"[\w'/~]+"  # a token of the (masked) text
_S = r"[^\w'/~]+"  # what separates tokens


def rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in parts))


def near(a: str, b: str, gap: int = 6, *, ordered: bool = False) -> str:
    """A regex for lexicon ``a`` and lexicon ``b`` at most ``gap`` words apart (either order)."""
    forward = rf"\b(?:{a})\b(?:{_S}{_W}){{0,{gap}}}?{_S}(?:{b})\b"
    return forward if ordered else forward + rf"|\b(?:{b})\b(?:{_S}{_W}){{0,{gap}}}?{_S}(?:{a})\b"


SUDDEN = (
    r"sudden\w*|all of a sudden|out of nowhere|out of the blue|just now|came on (?:fast|quick\w*|all at once)|"
    r"in (?:a|one) second|within (?:seconds|a minute)|instant\w*|woke up (?:with|and)|started (?:\w+ )?minutes ago"
)
RESOLVED = (
    r"\b(?:fine|ok|okay|better|normal|gone|good) now\b|\b(?:went|goes|gone) away\b|\bresolved\b|"
    r"\b(?:stopped|settled|eased) (?:after|when|once|by itself|on its own)\b|\bpassed after\b"
)
CHRONIC = (
    r"\b(?:for|past|last|over) (?:the )?(?:past |last )?(?:a|\d+|a few|few|several|couple(?: of)?|many) (?:weeks?|months?|years?)\b|"
    r"\bfor (?:weeks|months|years|ages)\b|\bon and off\b|\boff and on\b|\blately\b|\bchronic\b"
)
_SEVERE = (
    r"severe\w*|excruciating|blinding|unbearable|terrible|horrible|intense|splitting|worst|really bad|so bad|awful|"
    r"killer|(?:[89]|10) ?(?:/|out of) ?10"
)

# --- chest pain -------------------------------------------------------------------------------
_CHEST_SYMPTOM = (
    r"pain|pains|pressure|tight\w*|heav\w*|hurt\w*|ache|aches|aching|discomfort|squeez\w*|crush\w*|burning|weight|"
    r"killing me|stabbing|band|vice"
)
_OTHER_PART = (
    r"knees?|legs?|foot|feet|ankles?|hips?|stomach|belly|tummy|head|ears?|tooth|teeth|eyes?|throat|wrists?|hands?|"
    r"elbows?|fingers?|toes?|congestion|cold|cough"
)
CHEST = rx(
    near(r"chest|breastbone|sternum", r"vise|vice|clamp|band|elephant|crush\w*|squeez\w*", 6),
    rf"\b(?:breastbone|sternum)\b|\b(?:chest|heart) (?:(?!(?:{_OTHER_PART})\b)\w+ ){{0,3}}?(?:pain|pains|pressure|tightness|tight|heaviness|heavy|hurts|hurting|ache|aching|"
    r"discomfort|squeez\w*|crush\w*|burning)\b",
    rf"\b(?:{_CHEST_SYMPTOM})\b (?:in|on|across|around|behind|through|of|under|at|in the middle of|in the center of) "
    r"(?:\S+ ){0,2}?chest\b",
    r"\b(?:sitting|standing|weight|pressing|pushing|stepping|something heavy) on (?:my|his|her|the) chest\b",
    r"\btight chest\b|\belephant\b(?:\s+\S+){0,6}\s+chest\b|\bchest\b(?:\s+\S+){0,4}\s+elephant",
)
CHEST_ALONE = rx(
    r"\bheart attack\b",
    r"\bchest (?:is )?(?:being )?crush\w*",
    r"\bcrushing\b(?:\s+\S+){0,3}\s+chest\b",
    r"\b(?:clutch\w*|grabb\w*|gripp\w*|clench\w*|holding|pound\w* on) (?:at |onto )?(?:his|her|my|their|the)? ?chest\b",
)
_CHEST_STRONG = (
    r"\bcrush\w*|\bradiat\w*|\bspread\w*|"
    r"\b(?:going|goes|went|shoot\w*|down|into|to|up) (?:my|his|her|the) (?:left )?(?:arm|jaw|neck|back|shoulder)|"
    r"\bjaw\b|\bleft arm\b|\bsweat\w*|\bclammy\b|\bgr[ae]y\b|\bshort of breath\b|\bcan't (?:breathe|catch|get)|"
    r"\btrouble breathing|\bbreathless\b|\bfaint\w*|\bpass\w* out\b|\bheart attack\b|\b(?:[7-9]|10) ?(?:/|out of) ?10\b|"
    r"\bvomit\w*|\bthrow\w* up\b|\bnause\w*|\bambulance\b"
)
CHEST_STRONG = re.compile(_CHEST_STRONG)
CHEST_WARNING = re.compile(
    _CHEST_STRONG + r"|\bpressure\b|\btight\w*|\bsqueez\w*|\bheav(?:y|iness)\b|\belephant\b|\bpale\b|"
    r"\b(?:sitting|standing|weight) on\b|\bfeel\w* sick\b|\bdizz\w*|\blight ?headed|\breally bad\b|\bso bad\b|"
    r"\bsevere\w*|\bworst\b"
)
# Chest pain explained by a benign cause: pressing on it, a workout, a cough, a strain, food.
CHEST_BENIGN = re.compile(
    r"\bpress\w*(?! on (?:my|his|her) chest\b)|\btouch\w*|\btender\b|\bribs?\b|\bgym\b|\bwork ?out\b|\blift\w*|"
    r"\bcough\w*|\bpulled\b|\bstrain\w*|\bmuscle\b|\bsore from\b|\bbruise\w*|\bfell\b|\bheartburn\b|\bspicy\b|"
    r"\bpush ?ups\b|\bbench\w*"
)

# --- stroke (BE FAST) -------------------------------------------------------------------------
STROKE_STRONG = rx(
    r"\bstrok(?:e|ing out)\b(?! of\b)",
    r"\bmini[- ]stroke\b|\btia\b",
    near(r"face|smile|mouth|lip|lips|eyelid|cheek",
         r"droop\w*|crooked|lopsided|uneven|sagg\w*|slack|fallen|dropp\w*|twisted|pulled to one side", 4),
    r"\bhalf (?:of )?(?:my|his|her|their|the) face\b",
    r"\bone side of (?:my|his|her|their|the) (?:face|body|mouth)\b(?:\s+\S+){0,4}\s+(?:droop\w*|numb|weak|crooked|"
    r"sagging|looks|not moving|dead|heavy)",
    r"\bslurr\w*|\bgarbled\b|\bgibberish\b|\bjumbled\b|\bwords? (?:\w+ ){0,3}(?:come|coming|came|are coming) out (?:wrong|weird|jumbled)",
    r"\bwords (?:are |were )?(?:all )?(?:mixed up|wrong|backwards|jumbled)|\bcan't (?:get|find) (?:\w+ )?words(?: out)?\b",
    r"\bspeech (?:is |sounds |went |seems )?(?:\w+ )?(?:off|weird|strange|funny|slurred|garbled|wrong|slow)\b",
    r"\btalking (?:all )?(?:funny|weird|strange|nonsense)\b|\bsounds drunk\b|\bcan't understand (?:him|her|them|what (?:he|she))",
    r"\b(?:can't|unable to|trouble|hard to) (?:talk|speak|get (?:my|his|her|the) words out)\b(?! in (?:full )?sentences)",
    r"\b(?:can't|unable to|couldn't) (?:move|lift|raise|feel|use) (?:my|his|her|their) (?:left |right )?(?:arm|leg|hand|side|foot)\b"
    r"(?!(?:\s+\S+){0,8}\s+(?:since|after) (?:i|he|she|they) (?:fell|hurt|twisted|injured))",
    r"\b(?:suddenly|sudden) (?:can't|unable to) (?:move|lift|feel|use)\b",
    r"\b(?:numb\w*|weak\w*|paraly\w*|tingl\w*) (?:\w+ ){0,3}(?:one side|(?:left|right) (?:side|arm|leg|hand))\b"
    r"(?!(?:\s+\S+){0,4}\s+(?:slept|sleeping|dentist|novocaine))",
    r"\b(?:one|left|right) side (?:\w+ ){0,3}(?:numb\w*|weak\w*|paraly\w*)\b",
    r"\b(?:can't|unable to|couldn't) (?:feel|move|use) (?:the )?(?:left|right|one) side\b",
    r"\bnot making (?:any )?sense\b",
    rf"(?:{SUDDEN}) (?:\w+ ){{0,2}}confus\w*|\bconfus\w* (?:\w+ ){{0,2}}(?:{SUDDEN})",
    r"\bcan't see out of (?:one|my|his|her) eye|\bblind in one eye\b",
)
# A weak sign counts with another sign, with "sudden", or when it is on one side only.
STROKE_SOFT: dict[str, re.Pattern[str]] = {
    "limb": rx(near(r"arms?|legs?|hands?|foot|feet|fingers|grip",
                    r"weak\w*|limp|dead|heavy|numb\w*|paraly\w*|useless|floppy|gave out|giving out|can't (?:lift|move|raise|grip|hold)", 3)),
    "vision": rx(r"\blost (?:\w+ ){0,3}(?:vision|sight)\b|\b(?:vision|sight) (?:\w+ ){0,3}(?:went|gone|black|dark|dim|blurr\w*|double|lost)\b",
                 r"\bcan't see\b|\bwent blind\b|\bdouble vision\b|\bblurr\w* vision\b|\bcurtain\b"),
    "confusion": rx(r"\bconfus\w*|\bdisoriented\b|\bdoesn't (?:know|recognize)\b|\bnot (?:himself|herself)\b",
                    r"\bacting (?:strange|weird|drunk|odd)\b"),
    "balance": rx(r"\bcan't walk (?:straight|right)\b|\blost (?:my|his|her|their) balance\b|\boff balance\b|\bfalling to one side\b",
                  r"\broom (?:is )?spinning\b|\bstumbl\w*|\bwalking like (?:he's |she's |he is |she is )?drunk"),
    "speech": rx(r"\bmumbl\w*|\btrouble (?:talking|speaking)\b|\bhard to understand\b"),
}
ONE_SIDED = re.compile(r"\b(?:left|right|one) (?:side|arm|leg|hand|eye|foot)\b|\bon one side\b")
SOFT_BENIGN = re.compile(
    r"\bslept\b|\bsleeping on\b|\bdentist\b|\bnovocaine\b|\bshot\b|\bvaccin\w*|\binjection\b|\bworkout\b|\bgym\b|"
    r"\blifting\b|\bcarpal\b|\btyping\b|\breading\b|\bdiabet\w*|\bcold\b|\bflu\b"
)

# --- breathing --------------------------------------------------------------------------------
BREATHING_RAW = rx(
    r"\b(?:can't|couldn't|unable to|can barely|can hardly) breathe?\b(?! (?:through|out of|thru) )",
    r"\b(?:not|isn't|wasn't|stopped|no longer|quit) breathing\b",
    r"\b(?:can't|couldn't|unable to|can barely|can hardly|struggling to|fighting to) (?:get|catch|take|draw|grab) "
    r"(?:a |any |my |his |her |their |enough )?(?:breath|air)\b",
    r"\bcan't (?:talk|speak) in (?:full )?sentences\b|\bno air\b",
    r"\b(?:inhaler|nebulizer|neb|puffer|albuterol)\b (?:\w+ ){0,2}(?:isn't|is not|not|doesn't|does not|didn't|won't|ain't) "
    r"(?:help|helping|work|working|doing anything)\b",
)
BREATHING = rx(
    r"\bstruggl\w* (?:to|for) (?:breathe?|air)\b|\bfight\w* for (?:breath|air)\b|\bgulping (?:for )?air\b|\bair hunger\b",
    r"(?<!little )(?<!bit of )(?<!mild )(?<!slight )\b(?:trouble|difficulty|difficult|hard time|problems?) breathing\b",
    r"(?<!little )(?<!bit )(?<!mild )(?<!slightly )\bhard to breathe\b|\blabou?red breathing\b",
    r"\bchoking\b(?! on (?:my|his|her) (?:words|tears)| on (?:all )?(?:this|the|my|these|that) (?:\w+ )?(?:work|stress|paperwork|"
    r"bills|deadlines|emails|workload|homework))|\bsuffocat\w*",
    r"\b(?:lips?|face|skin|fingers|he|she|baby|they) (?:\w+ ){0,2}(?:turning |turned |look\w* |are |is |going )?(?:blue|purple|gr[ae]y)\b",
    r"\bblue lips\b",
    r"\bsucking in (?:under|between|at|with) (?:his|her|the|their|each)|\bretractions\b|\bnostrils? flar\w*|\bhead bobbing\b",
    r"\b(?:ribs|chest|belly|neck|skin) (?:\w+ ){0,2}(?:suck\w*|pull\w*|cav\w*) in\b|\bgrunt\w*",
    r"\b(?:severe(?:ly)?|very|extremely|really|so) short of breath\b|\bshort of breath (?:at rest|sitting|lying|even)",
    r"\bcan (?:barely|hardly) (?:talk|speak)\b",
    r"\bbarely breathing\b|\bbreathing (?:is )?(?:really |very |super |so )?(?:fast|hard|shallow|weird|funny|noisy|labou?red|rattly)",
    near(r"wheez\w*", r"so bad|really bad|severe|terrible|can't (?:talk|speak|breathe|stop)|blue|purple|struggl\w*", 5),
    r"\b(?:bad|severe|really bad|major|big) asthma attack\b|\binhaler (?:does|did|is doing) nothing\b",
)

# Gasping counts, except in sleep ("snores and gasps in his sleep" is a routine visit).
GASP = re.compile(r"\bgasp\w*")
SLEEP = re.compile(r"\bsnor\w*|\b(?:in|during) (?:my|his|her|their) sleep\b|\bsleep apnea\b|\bat night\b|\basleep\b")

# --- anaphylaxis ------------------------------------------------------------------------------
_ALLERGEN = (
    r"allerg\w*|peanuts?|nuts?|shellfish|shrimp|crab|lobster|sesame|bee|bees|wasp|hornet|yellow ?jacket|stings?|stung|"
    r"penicillin|amoxicillin|antibiotics?|new (?:med\w*|pills?|drug)|latex"
)
_AIRWAY = (
    r"(?:face|eyes?|eyelids?|lips?|tongue|throat|mouth) (?:\w+ ){0,2}(?:swell\w*|swollen|puff\w*|huge|tight\w*|clos\w*)|"
    r"swell\w* (?:up )?(?:\w+ ){0,2}(?:face|eyes?|lips?|tongue|throat)|trouble (?:breathing|swallowing)|"
    r"hard to (?:breathe|swallow)|can't (?:breathe|swallow)|wheez\w*|hoarse|voice (?:is )?(?:changing|changed|weird)"
)
ANAPHYLAXIS = rx(
    r"\banaphyla\w*",
    near(r"throat", r"clos\w*|swell\w*|swollen|tight\w*|shut\w*|constrict\w*|narrow\w*", 3, ordered=True),
    r"\b(?:closing|tight\w*|constrict\w*) (?:up )?(?:of |in )?(?:my|his|her|the|their)? ?throat\b",
    r"\b(?:tongue|lips?|mouth)(?: and (?:tongue|lips?|throat|face))? (?:is |are |look |looks |feels? )?(?:\w+ )?"
    r"(?:swell\w*|swollen|huge|thick|fat)\b",
    r"\bswell\w* (?:of|in) (?:my|his|her|the)? ?(?:tongue|lips?|throat)\b",
    r"\b(?:used|gave|give|giving|needed|using|had to use) (?:\w+ )?epipen|\bepinephrine\b",
    r"\ballergic reaction\b(?:\W+\w+){0,8}?\W+(?:breath\w*|swallow\w*|throat|tongue|wheez\w*|lips?|voice|face)\b",
    near(_ALLERGEN, _AIRWAY, 12),
    near(r"hives (?:all over|everywhere|spreading)", r"dizz\w*|faint\w*|passing out|vomit\w*|throw\w* up|swell\w*", 8),
)

# --- bleeding ---------------------------------------------------------------------------------
_STOP = r"stop|stopping|slow|slowing|quit|quitting|let up|clot"
BLEEDING_RAW = rx(
    rf"\b(?:won't|can't|doesn't|isn't|not|will not|cannot|never) (?:{_STOP}) (?:the )?bleeding\b",
    rf"\b(?:bleed\w*|nosebleed|blood)\b(?:\s+\S+){{0,6}}\s+(?:won't|doesn't|isn't|will not|does not|is not|not|can't) (?:{_STOP})",
)
BLEEDING = rx(
    r"\bbleed\w* (?:\w+ )?(?:heavily|a lot|badly|profusely|everywhere|like crazy|nonstop|non stop|so much|really bad|very bad)\b",
    r"(?<!period )\b(?:heavy|lots of|a lot of|massive|severe|so much|tons of|too much) (?:bleeding|blood)\b"
    r"(?!\s+(?:during|with|from) (?:my|her) period)",
    r"\bblood in (?:my |his |her |the )?vomit\b|\bvomit\w* (?:\w+ ){0,2}blood\b",
    r"\bblood (?:is |keeps |keep |won't stop )?(?:everywhere|all over|spurting|gushing|pouring|squirting)\b"
    r"|\b(?:spurting|gushing|pouring|pumping|pulsing|spraying) (?:out )?blood\b|\b(?:spurting|gushing|squirting)\b",
    r"\bblood (?:is |keeps )?(?:pumping|pulsing|spraying)\b",
    r"\bsoak\w* (?:through )?(?:\w+ ){0,3}(?:towels?|bandages?|shirt|cloth|gauze|rags?)\b",
    near(r"vomit\w*|throw\w* up|threw up|puk\w*|cough\w* up|spit\w* up", r"blood|coffee grounds", 5, ordered=True),
    r"\bpool of blood\b|\bcovered in blood\b|\blost (?:a lot of|so much|lots of|tons of) blood\b|\bbleeding out\b|\bhemorrhag\w*",
    r"\b(?:keeps|kept|still) bleeding\b|\bbleed\w* (?:for|over) (?:over |more than |about |almost |like )?(?:an|one|half an|\d+) hours?\b",
    r"\bbleed\w* (?:for|over) (?:over |more than |about |almost |like )?(?:[2-9]\d|\d{3}) minutes\b",
    r"\bcut (?:off|through) (?:\w+ ){0,2}(?:finger|toe|thumb|hand|artery)|\bsevered\b|\b(?:got |been |was )stabbed\b|\bstab wound"
    r"|\b(?:been|was|got) shot (?:in|at|by)\b|\bgunshot\b",
    near(r"black|tarry|maroon|bloody", r"stool|stools|poop|poo|bowel movement", 3)
    + r"(?=.*\b(?:faint\w*|dizz\w*|passed out|passing out|light ?headed)\b)",
)

# --- suicide and self-harm --------------------------------------------------------------------
_LIVE = r"live|be alive|be here|wake up|exist|go on|be around|keep living|keep going|do this anymore"
SUICIDE_RAW = rx(
    rf"\b(?:don't|doesn't|do not|does not|didn't|no longer) want(?:s)? to (?:{_LIVE})\b",
    r"\b(?:no|don't see (?:the|any)|can't see (?:the|any)|what's the|there's no|not any) (?:reason|point|will) (?:to|in|of) "
    r"(?:live|living|go on|going on|keep going|being alive|being here|life|carrying on)\b",
    r"\bso (?:i|he|she|they) (?:never|don't|won't|wouldn't|can't|do not|will not) wake up\b",
    r"\bnothing (?:left )?to live for\b|\bno way out\b|\bnot worth living\b|\blife (?:isn't|is not|ain't) worth\b",
    r"\bcan't (?:go on|keep going|do this anymore|take (?:it|this) anymore|live like this)\b",
    r"\bbetter off (?:dead|without me|gone|if i (?:was|were|wasn't|weren't)\b)",
    r"\bwish (?:i|he|she) (?:was|were) (?:dead|gone|never born)\b|\bwish (?:i|he|she) (?:had )?never (?:been born|woke up)\b",
    r"\bwish (?:i|he|she) (?:could|would) (?:just )?(?:die|disappear|not wake up|sleep forever)\b",
    r"\bwish (?:i|he|she) (?:didn't|wouldn't|won't|don't) wake up\b",
)
_SELF = r"myself|himself|herself|themselves|themself|my self"
_ACCIDENT = (
    r"shaving|cooking|chopping|slicing|peeling|opening|ironing|by accident|accidentally|a (?:slice|piece|bit of|break)|"
    r"on (?:a |the |some )?(?:glass|can|knife|metal|paper|stove|oven|pan|iron|grill|kettle|pot|fence|nail|curling iron)|"
    r"in the kitchen|at work|at the gym|lifting|playing|running|fixing|working|moving|when i fell|slipped"
)
SUICIDE = rx(
    rf"\bkill\w* (?:{_SELF})\b",
    r"\bsuicid\w*",
    r"\b(?:tired|sick|done) (?:of|with) (?:being alive|living|life|existing|being here)\b",
    r"\bend(?:ing|ed)? (?:my|his|her|their) (?:own )?life\b|\bend(?:ing)? it all\b|\btak(?:e|ing) (?:my|his|her) (?:own )?life\b",
    r"\b(?:want|wants|going|ready|plan\w*|thinking (?:about|of)|decided) (?:to )?end(?:ing)? (?:it|things|everything)\b",
    r"\b(?:saved|saving|stockpil\w*|hoard\w*) (?:up )?(?:\w+ )?(?:pills|meds)\b|\b(?:pills|meds) saved\b",
    r"\b(?:have|got|made|making) a plan\b(?:\s+\S+){0,6}\s+(?:die|end|kill|pills|gun|jump|hang)"
    r"|\b(?:pills|gun|rope)\b(?:\s+\S+){0,6}\s+a plan\b",
    rf"\b(?:hang|shoot|drown|stab|poison|starve) (?:{_SELF})\b|\bslit (?:my|his|her|their) wrists?\b",
    r"\b(?:want|wants|wanted|going|ready|plan\w*|trying) to die\b(?! of (?:embarrassment|laughter|boredom|shame|cringe))",
    r"\b(?:want|wants|wish) (?:it all|everything|my life|it|the pain|this) to (?:end|be over|stop)\b",
    r"\b(?:thoughts?|thinking|think) (?:about|of) (?:ending|killing|hurting|dying|death|taking (?:my|his|her) (?:own )?life)\b",
    r"\b(?:want|wants|going|thinking (?:about|of)|plan\w*) (?:to )?jump(?:ing)? (?:off|from|in front of)\b",
    r"\b(?:goodbye|suicide) (?:note|letter)s?\b",
    # "dark thoughts" is how many people first say it (988's and the NHS's wording of the warning signs); asked with
    # "no" or "any" before it, it is not said of oneself
    r"(?<!\bno )(?<!\bany )(?<!\bwithout )\bdark thoughts?\b",
    # warning signs in the 988 Lifeline's and AFSP's lists: giving away possessions, talk of being a burden that is
    # about to end ("won't be a problem for anybody much longer")
    r"\b(?:giv(?:e|es|ing|en)|gave) away (?:\w+ ){0,2}?(?:my|his|her|their) (?:\w+ )?"
    r"(?:stuff|things|belongings|possessions|valuables)\b"
    r"(?!.{0,60}?\b(?:mov(?:e|es|ed|ing)|downsiz|goodwill|charity|donat|garage sale|yard sale|declutter|estate sale))",
    r"\b(?:won't|will not|not going to|wouldn't) be (?:a )?(?:burden|problem|bother|trouble|nuisance|worry) "
    r"(?:to|for|on) (?:any|every|no)(?:one|body)(?: else)? (?:much |for )?(?:longer|anymore|any more|soon)\b",
    r"\b(?:won't|will not|wouldn't) (?:have to|need to) (?:worry|deal) (?:about|with) me (?:much |for )?"
    r"(?:longer|anymore|any more)\b",
    rf"\b(?:cutting|hurting|harming|burning|starving) (?:{_SELF})\b",
    rf"\b(?:want|wants|going|urge|urges|thinking (?:about|of)|keep|tried) (?:to )?(?:cut|hurt|harm|burn) (?:{_SELF})\b",
    rf"(?<!accidentally )\b(?:cut|hurt|harmed|burned|burnt) (?:{_SELF})\b(?!(?:\s+\S+){{0,4}}?\s+(?:{_ACCIDENT})\b)",
    r"\bself[- ]?harm\w*",
    r"\b(?:overdos\w*|took|swallowed|pills)\b(?:\s+\S+){0,8}\s+(?:on purpose|intentionally|to (?:die|end it|not wake up))\b",
)

# --- overdose and poisoning -------------------------------------------------------------------
CHEMICAL = (
    r"bleach|button batter(?:y|ies)|batter(?:y|ies)|detergent|soap|pods?|cleaner|cleaning (?:stuff|products?|spray|supplies)|"
    r"chemicals?|poison|antifreeze|pesticide|weed killer|lighter fluid|gasoline|gas|drano|lye|nail polish remover|mouthwash|"
    r"windex|lysol|clorox|tide pods?|febreze|pine-?sol|comet|ajax|fabuloso|purell|listerine|ammonia|oven cleaner|"
    r"paint thinner|kerosene|rubbing alcohol|hydrogen peroxide|perfume|cologne|mothballs?|fertilizer|bug spray|"
    r"insecticide|roach \w+|ant (?:bait|trap|killer)|super ?glue|wd-?40|motor oil|acetone|chlorine|pool \w+|wild mushrooms?|"
    r"vape (?:juice|liquid)|e-?liquid|nicotine|magnets?|rat poison|windshield fluid|lamp oil|essential oils?|hand sanitizer|"
    r"dishwasher \w+|laundry \w+|toilet (?:bowl )?cleaner"
)
DRUG = (
    r"oxy\w*|percocet|vicodin|hydrocodone|fentanyl|heroin|morphine|methadone|xanax|valium|klonopin|ativan|ambien|benadryl|"
    r"sleeping (?:pills|meds)|sleep (?:aid|meds)|insulin|lithium|acetaminophen|aspirin|adderall|molly|ecstasy|cocaine|meth|"
    r"antidepressants?|seroquel|tramadol|gabapentin|suboxone|pain ?killers?|opioids?|opiates?|narcotics?|drugs?|"
    r"pills?|tablets?|capsules|meds|medicine|medications?|vitamins|iron|gummies|edibles?|tylenol|advil|ibuprofen|motrin|aleve"
)
MEDICINE = r"pills?|tablets?|capsules|meds|medicine|medications?|vitamins|gummies|edibles?|tylenol|advil|ibuprofen|xanax"
SWALLOW = (
    r"swallowed|drank|drunk|ate|eaten|chewed|got into|licked|ingested|sucked on|chugged|got ahold of|"
    r"put (?:a |some )?(?:\w+ )?in (?:his|her|their) mouth|(?:a )?(?:sip|gulp|mouthful|swig) of"
)
CHILD_SUBJECT = (
    r"\b(?:toddler|baby|infant|kid|kiddo|child|son|daughter|\d+ (?:year|month) old|little one|little (?:guy|girl|boy)|"
    r"grandson|granddaughter|nephew|niece|twins?)\b"
)
_MUCH = (
    r"some of|all (?:of )?|a bunch|a handful|handfuls|whole|entire|bottle|too many|a lot|\d{2,}|\w+'s|grandmas?|grandpas?"
    r"|(?:mom|dad|grandma|grandpa|her|his|their|someone) else's"
)
OVERDOSE = rx(
    near(r"overdid it|mix\w*|took|taking|popped|on", r"(?:pills|meds|xanax|benzos?|opioids?|oxy\w*|painkillers?|sleeping pills)"
         r"(?: and| with| plus) (?:\w+ )?(?:alcohol|booze|drinking|drinks|vodka|liquor|beer|wine)", 4),
    r"\boverdos\w*|\bfentanyl\b|\blaced\b|\bnarcan\b|\bnaloxone\b",
    r"\b(?:took|drank|swallowed|chugged) (?:a |the |half a |half the )?(?:whole|entire|full) (?:bottle|pack|box|packet|fifth|handle)\b",
    r"\btook (?:like |about |around |maybe |over |at least )?(?:all|too many|a handful|handfuls|a bunch|\d{2,}) (?:of )?"
    r"(?:my |his |her |their |the )?(?!minutes|hours|days|weeks|mg|seconds|years|steps|dollars|bucks|tries)\w+",
    near(r"too (?:much|many)|way too (?:much|many)|a bunch of|a handful of|handfuls of|a lot of|lots of|the rest of", DRUG, 5),
    rf"\b(?:{SWALLOW})\b(?:\s+\S+){{0,5}}\s+(?:{CHEMICAL})\b|\b(?:{CHEMICAL})\b(?:\s+\S+){{0,6}}\s+(?:{SWALLOW})\b",
    rf"{CHILD_SUBJECT}(?:\s+\S+){{0,6}}\s+(?:{SWALLOW}|took|got into)\b(?:\s+\S+){{0,5}}\s+(?:{MEDICINE}|medicine cabinet|{DRUG})\b",
    rf"\b(?:{SWALLOW}|took)\s+(?:{_MUCH})\s+(?:\S+\s+){{0,3}}?(?:{MEDICINE})\b",
    r"(?<!food )\bpoison(?:ed|ing)?\b(?! (?:ivy|oak|sumac|control number))",
    r"\bcarbon monoxide\b|\bgas leak\b|\b(?:co|carbon monoxide) (?:alarm|detector) (?:went off|going off|is going off)\b",
    r"\b(?:breathed|breathing|inhaled|huffed|smelled) (?:in )?(?:\w+ ){0,2}(?:fumes|chemicals|bleach|ammonia)\b|\bmixed bleach\b",
)

# --- unresponsive or collapsed ----------------------------------------------------------------
PERSON = (
    r"(?:he|she|they|he's|she's|they're|him|her|them|my \w+|his \w+|her \w+|grandma|grandpa|mom|dad|baby|someone|"
    r"a (?:man|woman|guy|lady|kid)|the (?:baby|kid|man|woman|guy|lady))"
)
UNRESPONSIVE_RAW = rx(
    r"\b(?:won't|can't|cannot|couldn't|not|isn't) wak(?:e|ing)(?: (?:him|her|them|up|my \w+|\w+))?\b",
    r"\b(?:not|isn't|is not|wasn't|won't|not really) (?:responding|responsive|reacting|conscious|respond|answer)\b",
    rf"\b{PERSON} (?:is |was )?(?:not|isn't) (?:answering|moving|waking)\b",
    r"\bno (?:pulse|heartbeat|heart beat|response)\b",
    r"\b(?:very |really |super )?hard to (?:wake|rouse)\b|\bwon't open (?:his|her|their) eyes\b",
)
UNRESPONSIVE = rx(
    r"\bkeel\w* over\b|\bdropped like a\b|\bhit the (?:floor|ground) and\b|"
    r"\bun ?conscious\b|\bunresponsive\b|\bknocked out\b|\bcollaps\w*|\bout cold\b|\blifeless\b|\bslumped\b",
    rf"\bfound (?:{PERSON}) (?:\w+ ){{0,4}}(?:on the floor|not moving|unresponsive|unconscious|blue|passed out)",
    r"\bbarely (?:conscious|awake|responsive|responding)\b|\bin and out of (?:consciousness|it)\b|\bdrifting in and out\b",
    r"\bkeeps (?:passing|blacking) out\b|\b(?:went|is|gone|going) (?:all )?limp\b|\bdropped (?:to the (?:floor|ground)|unconscious)\b",
)

# A faint that is over ("passed out from the heat but fine now") is urgent, not an emergency.
FAINTED = re.compile(rf"\b{PERSON} (?:is |was |has |just |has just )*(?:passed out|fainted|blacked out)\b")

# --- seizure ----------------------------------------------------------------------------------
_SEIZURE_SIGN = (
    r"foam\w*|drool\w*|unresponsive|not responding|won't respond|eyes (?:\w+ )?rolled|went stiff|body (?:\w+ )?stiff|rigid|bit (?:his|her|their) tongue|"
    r"wet (?:himself|herself)|peed (?:himself|herself)|lips? (?:\w+ )?blue|staring"
)
SEIZURE = rx(
    r"\bseizures?\b|\bseizing\b|\bconvuls\w*|\bgrand mal\b|\bepileptic\b",
    r"\b(?:having|had|has|is|was|started|keeps) (?:a )?fit(?:ting|s)?\b",
    r"\beyes (?:\w+ )?rolled back\b|\b(?:shaking|jerking|twitching) (?:all over|uncontrollably|violently)\b|\bfoam\w* at the mouth\b",
    r"\b(?:is|was|started|keeps|he's|she's) (?:\w+ )?jerking\b(?! awake| (?:in|during) (?:my|his|her|their) sleep| as (?:i|he|she))|\bstiff and (?:shaking|jerking|twitching)\b",
    near(r"jerk\w*|twitch\w*|shak\w*|convuls\w*", _SEIZURE_SIGN, 6),
)

# --- fever in a young baby --------------------------------------------------------------------
FEVER = re.compile(
    r"\bfever\w*|\bfebrile\b|\bburning up\b|\b(?:feels?|is|felt|very|really|so) (?:hot|warm)\b|\bhigh temp|"
    r"\b(?:warm|hot) to the touch\b|\brunning a (?:temp|fever)\b"
)

# --- pregnancy with heavy bleeding or severe pain ---------------------------------------------
PREGNANT = rx(
    r"\bpregnan\w*|\bweeks along\b|\bexpecting a baby\b|\bmy (?:unborn|fetus)\b|\btrimester\b",
    r"\bpositive (?:pregnancy )?test\b|\bpregnancy test (?:was |is |came back )?positive\b",
    r"\b(?:i'm|i am|she's|she is|at|almost|about|wife is|girlfriend is) \d{1,2} (?:weeks|months)\b(?! (?:ago|old|post|out|after|since))",
    r"^\d{1,2} weeks\b(?! (?:ago|old|post|out|after|since))",
)
PREGNANCY_DANGER = rx(
    r"\bbleed\w* (?:\w+ )?(?:heavily|a lot|badly|really bad|so much)\b|\b(?:heavy|lots of|a lot of|so much|tons of) (?:bleeding|blood)\b",
    r"\b(?:soak\w*|bleed\w*) (?:through )?(?:a |\d+ |one |my |her )?pads?\b|\bclots?\b|\bgush\w* (?:of )?blood\b",
    r"\bblood (?:is )?(?:pouring|gushing|coming out|everywhere|running)\b",
    r"\b(?:severe|really bad|terrible|excruciating|unbearable|very bad|intense|worst) (?:\w+ ){0,2}(?:pain|cramps?|cramping)\b",
    r"\b(?:[7-9]|10) ?(?:/|out of) ?10\b|\b(?:one|left|right)[- ]sided pain\b|\bshoulder tip pain\b",
    near(r"pain|cramp\w*|bleed\w*|spotting", r"faint\w*|dizz\w*|passing out|passed out|light ?headed|one side", 8),
    near(r"(?:sharp|stabbing|knife|severe|intense) (?:\w+ ){0,2}(?:pain|cramp\w*)",
         r"(?:left|right|one) side|shoulder\w*|faint\w*|dizz\w*", 8),
    near(r"severe headache|bad headache|worst headache", r"vision|seeing spots|blurr\w*|swell\w*", 6),
    r"(?<!light )(?<!little )(?<!bit of )(?<!some )(?<!spotting and )\bbleed\w*\b(?! a (?:little|bit))",
)

# --- sudden or worst-ever headache ------------------------------------------------------------
_HEAD = r"headache|head pain|head ache|migraine|head"
_HEAD_PAIN = (
    r"headache|head pain|head ache|migraine|head (?:\w+ )?(?:hurts|pain|pounding|throbbing|killing me)|pain in (?:my|his|her|the) head|"
    r"(?:grab\w*|holding|clutch\w*) (?:my|his|her|their) head"
)
_EVER = r"ever|of (?:my|his|her|their) life|in (?:my|his|her|their) life|i(?:'ve| have)? (?:ever )?had|(?:i|he|she)(?:'s| has| have)? ever"
WORST_HEADACHE_RAW = rx(
    r"\bnever (?:had|felt|ever had) (?:a |such a )?(?:\w+ )?(?:headache|head pain|migraine)(?: (?:this|so|that) (?:bad|painful|severe))?\b"
    r"(?<!had a headache)(?<!had headache)(?<!a migraine)",
)
WORST_HEADACHE = rx(
    r"\bworst (?:\w+ ){0,2}(?:headache|migraine|head pain)\b|\b(?:headache|migraine)\b(?:\s+\S+){0,3}\s+worst\b",
    near(_HEAD_PAIN, rf"worst (?:\w+ ){{0,4}}?(?:{_EVER})", 10),
    r"\bthunderclap\b",
    near(_HEAD, r"explod\w*|like (?:a|being) (?:bang|bat|hammer|gunshot|bomb|lightning|truck)|hit (?:me |her |him )?like|"
         r"like (?:someone|something) (?:hit|struck|smacked)", 6),
    r"\bsudden(?:ly)? (?:\w+ ){0,2}(?:severe|excruciating|explosive|terrible|horrible|blinding) (?:headache|head pain)\b",
    r"\b(?:severe|excruciating|explosive|terrible|horrible|blinding) (?:headache|head pain)\b(?:\s+\S+){0,6}\s+"
    r"(?:sudden(?:ly)?|all of a sudden|out of nowhere|like a bang|exploded)",
)
HEADACHE_SUDDEN = re.compile(near(r"headache|head pain|migraine", SUDDEN, 6))
HEADACHE_SEVERE = re.compile(rf"\b(?:{_SEVERE})\b")
HEADACHE_STIFF_NECK = re.compile(r"\b(?:headache|head pain)\b(?=.*\bstiff neck\b|.*\bneck (?:is )?(?:really |so )?stiff\b)")
