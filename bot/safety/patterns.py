"""The deterministic safety layer: does a message describe a life-threatening situation?

Runs on every message before the classifier's verdict is used (see bot/safety/guard.py),
so that "ne venez pas aux urgences" can never reach a person in danger. It errs on the side of
112: a false alarm costs one extra line, a miss can cost a life. Pure: no Rasa import.

Patterns are written against `bot.text.normalize(text)`: lower case, no accents, apostrophes
and punctuation as spaces, SMS words expanded ("g" -> "j ai", "pr" -> "pour").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.safety import GENERAL, POISON, SUICIDE
from bot.text import normalize

_W = r"(?:\w+ ){0,3}"  # up to three words in between
_BODY_PARTS_SWELL = r"(?:gorge|langue|levres?|visage|bouche|paupieres|yeux|figure|cou)"
_DRUGS = (
    r"(?:medicaments?|cachets?|pilules?|comprimes?|gelules?|somniferes?|calmants?|"
    r"antidepresseurs?|anxiolytiques?|paracetamol|dafalgan|doliprane|ibuprofene|aspirine|"
    r"insuline|xanax|lexomil|temesta|morphine|tramadol|drogues?|pillules?|medicament|"
    r"boites? de \w+|plaquettes?)"
)
_HOUSEHOLD = (
    r"(?:piles?|pile bouton|javel|eau de javel|produits? (?:menager|d entretien|vaisselle|"
    r"chimique)\w*|produit|detergent|deboucheur|destop|lessive|capsules? de lessive|"
    r"dosettes? de lessive|pesticides?|insecticides?|mort aux rats|raticide|desherbant|"
    r"champignons?|baies|essence|white spirit|acide|soude|ammoniaque|antigel|alcool a bruler|"
    r"petrole|poison|liquide vaisselle|(?:pastilles?|tablettes?|capsules?) (?:pour |de |du )?"
    r"lave vaisselle|liquide de cigarette|e liquide|huile essentielle|"
    r"aimants?|\w*chlore)"
)
_SOMEONE_DOWN = r"(?:ne bouge plus|ne reagit plus|ne repond plus|ne reagit pas|ne repond pas|inconscient\w*|ne respire plus)"

PATTERNS: dict[str, list[str]] = {
    SUICIDE: [
        r"suicid",
        r"\b(?:me|se|te|nous) (?:tuer|pendre|suicider|foutre en l air|jeter sous|jeter du|"
        r"jeter par|ouvrir les veines|faire sauter|supprimer|flinguer|noyer)",
        r"\ben finir\b",
        r"mettre fin a (?:mes|ses|tes|ma|sa) (?:jours|vie)",
        r"(?:plus|pas|aucune) envie de vivre",
        r"envie de (?:mourir|crever|disparaitre|en finir)",
        r"(?:veux|voudrais|vais|veut|prefere|prefererais) (?:mourir|crever|disparaitre)",
        r"(?:idees|pensees) (?:noires|suicidaires|de mort)",
        r"sauter (?:du|d un|par la|de la|d une) (?:pont|fenetre|balcon|toit|falaise|immeuble)",
        r"(?:me|se|te) (?:faire|fais|fait|suis fait|suis fais|faisais|suis fait) du mal",
        r"\bscarifi",
        r"plus (?:la force|le courage) de vivre",
        r"(?:marre|fatigue) de (?:la vie|vivre)",
        r"la vie n a plus (?:de|aucun) sens",
        r"(?:ecrit|laisse) une lettre d adieu",
        r"(?:c est|c|tout est|ca va etre) fini pour moi",
        r"(?:ecrit|laisse|ecris|ecrire|prepare)\w* (?:une |des |ma |mes )?(?:lettres?|mots?|messages?)"
        r" d adieu",
        r"(?:ecrit|laisse|ecris)\w* (?:une |des )?lettres? (?:a|pour) (?:mes|ma|mon|ses|sa|son)"
        r" (?:enfants|femme|mari|parents|famille|mere|pere)",
        r"\b(?:dire|dit|fais|faire|fait) (?:mes |ses )?adieux?\b",
        r"(?:plus la peine|plus de raison|aucune raison) de vivre",
        r"(?:ne )?(?:serai|serais|sera) plus la demain",
        r"dormir pour (?:toujours|de bon)",
        r"\bla corde\b",
        r"sous (?:un|le) (?:train|camion|bus|metro|tram)",
        r"(?:avaler|prendre) (?:tous|toutes) (?:mes|ses) (?:medicaments|cachets|pilules|comprimes)",
    ],
    POISON: [
        r"\b(?:overdose|overdoses|overdosee?|surdose|surdosage|od)\b",
        r"trop (?:de|d) {_W}{_DRUGS}",
        r"(?:pris|prend|avale|avaler|bu|boire|ingere|mange|croque|ingurgite|absorbe|gobe)"
        r" {_W}(?:de la |du |des |de l |de |d |la |le |les |une |un )?{_HOUSEHOLD}",
        r"(?:pris|avale|ingere|gobe|mange|bu) {_W}(?:toute? |tous )(?:la|une|sa|ma|les|mes|ses)"
        r" {_W}{_DRUGS}",
        r"(?:pris|avale|gobe) (?:\d+|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|vingt|"
        r"trente|quarante|cinquante|plein|beaucoup|plusieurs|une dizaine|une vingtaine)"
        r" {_W}{_DRUGS}",
        # a whole pack swallowed ("avaler une plaquette entiere de mes anti epileptiques")
        r"(?:pris|avale|avaler|gobe|ingere) (?:toute |tout )?(?:une|la|ma|sa|mon|son) "
        r"(?:plaquette|boite entiere|boite complete)\b",
        r"intoxi(?:que|quee|ques|cation|ee)",
        r"(?:pris|prend|consomme|fume|sniffe|avale|injecte|gobe)\w* {_W}(?:de la |du |des |de l )?"
        r"(?:drogues?|cocaine|coke|heroine|ecstasy|mdma|ghb|ketamine|crack|speed|lsd|opium|"
        r"fentanyl|methadone)",
        r"empoisonn",
        r"\bpoison\b",
        r"monoxyde",
        r"(?:respire|inhale|sniffe) {_W}(?:gaz|produit|fumees?|vapeurs?)",
        r"centre antipoison",
    ],
    GENERAL: [
        # heart
        r"\b(?:infarctus|infractus|infarctu|crise cardiaque|arret cardiaque|attaque cardiaque|"
        r"crise cardiac|arret du coeur)",
        r"(?:douleur|douleurs|mal|serrement|oppression|pression|poids|brulure|point|serre|barre)"
        r" {_W}(?:a la |dans la |au niveau de la |sur la |de la )?(?:poitrine|thorax|thoracique)",
        r"(?:poitrine|thorax)\b.{0,40}\b(?:serre|serree|comprime|ecrase|brule|fait mal|douleur|"
        r"oppress|lourd)",
        r"mal (?:au|dans le) bras gauche",
        r"(?:douleur|mal) {_W}(?:irradie|descend|monte) {_W}(?:bras|machoire|dos)",
        r"coeur {_W}(?:s arrete|s est arrete|bat (?:tres|trop) (?:vite|fort|lentement)|"
        r"s emballe|lache)",
        # breathing
        r"(?:plus|pas|mal|difficilement|peine|du mal|difficulte|difficultes) (?:a |pour |de )?"
        r"(?:respirer|respire|reprendre (?:son|mon|sa) souffle)",
        r"(?:respire|respirons|respirent) (?:plus|pas|mal|difficilement|tres mal|avec difficulte|"
        r"avec peine|bizarrement|tres vite)",
        r"\b(?:etouffe|etouffer|etouffement|etouffes|s etouffe|suffoque|suffoquer|suffocation)",
        r"manque d air",
        r"(?:manque|manquer) (?:d|de l) oxygene",
        r"(?:levres|visage|bouche|doigts|peau|teint|lui|il|elle|bebe) {_W}"
        r"(?:bleue?s?|violette?s?|bleuit|bleuie|devient bleu|tout bleu|toute bleue|gris|grise)\b",
        r"cyanose",
        r"detresse respiratoire",
        r"arret respiratoire",
        r"crise d asthme {_W}(?:grave|severe|forte|qui ne passe pas|ventoline ne)",
        r"(?:avale|coince) {_W}(?:de travers|dans la gorge).{0,30}(?:respir|tousse|bleu)",
        r"quelque chose (?:de )?coince dans la gorge",
        # consciousness
        r"(?:perdu|perd|perte de|perdre|perdait) (?:connaissance|conscience|connaisance)",
        r"\binconscient",
        r"\bevanoui",
        r"\bs (?:est|etait) (?:effondre|ecroule|evanoui)",
        r"(?:ne|n) (?:se )?(?:reveille|reagit|repond|bouge) (?:plus|pas)",  # see _NOT_A_PERSON
        r"\b(?:il|elle|lui|on|bebe|mari|femme|pere|mere|papa|maman|fils|fille|voisin\w*|ami\w*)"
        r" (?:se )?(?:reveille|reagit|repond|bouge|respire) (?:plus|presque plus|pas quand)\b",
        r"(?:par terre|au sol|a terre|sur le sol)\b.{0,40}(?:bouge|repond|reagit|reveille|respire)",
        r"tombe dans les pommes",
        r"\bdans le coma\b",
        r"\bcoma\b",
        r"(?:yeux|regard) (?:revulses|dans le vide).{0,30}(?:repond|reagit)",
        # stroke
        r"\bavc\b",
        r"accident vasculaire",
        r"(?:bouche|visage|levre|levres|figure|joue|oeil|paupiere) {_W}(?:de travers|tordue?|"
        r"qui tombe|tombe|paralyse|deformee?|affaisse|pendante?|pend|pendait|tire|tordu|qui pend)",
        r"(?:ne sens|ne sent|ne sentons|sens plus|sent plus|plus senti)\b.{0,25}"
        r"(?:bras|jambe|main|visage|cote|moitie)",
        r"\bparalys",
        r"(?:parle|parler|parlait|parlent|articul\w*|prononc\w*|cause) {_W}(?:mal|bizarrement|difficilement|plus|"
        r"de travers|n importe comment|bizarre|avec difficulte)",
        r"(?:n arrive|arrive|peut|peux|parvient|arrivons|sait) (?:plus|pas) a (?:parler|articuler)",
        r"(?:ne peut|ne peux|peut|peux|ne sait) plus parler",
        r"(?:mots|paroles) {_W}(?:melanges|incomprehensibles|ne sortent plus)",
        r"hemiplegi",
        r"moitie du (?:visage|corps)",
        r"(?:bras|jambe) {_W}(?:ne repond plus|inerte|mort|engourdi d un coup|tombe)",
        # bleeding
        r"(?:saigne|saignent|saignement|saignements|saigner|saignait)\b {_W}(?:beaucoup|abondamment|"
        r"enormement|fort|sans arret|sans s arreter|s arrete pas|arrete pas|abondant|partout|"
        r"ne s arrete|ne veut pas s arreter|a flots|comme un)",
        r"hemorragi",
        r"(?:perd|perds|perdu|pert|perdre|perdent) (?:beaucoup|enormement|trop) de sang",
        r"(?:pisse|pisser|pissait|pissent) le sang",
        r"\b(?:gicle|giclent|jaillit)\b",
        r"(?:plaie|coupure|entaille|blessure) {_W}(?:tres )?(?:profonde|grave|beante|enorme)",
        r"(?:beaucoup|plein|flaque|mare) de sang",
        r"sang partout",
        r"(?:vomi|vomit|crache|tousse)\w* {_W}(?:du )?sang",
        r"(?:couteau|poignard|balle|arme)\b.{0,30}(?:blesse|plante|poignarde|tire)",
        r"\b(?:poignarde|poignardee|blesse par balle|coup de couteau)",
        # convulsions
        r"convuls",
        r"crise d epilep",
        r"\bepilep\w* {_W}(?:crise|ne s arrete)",
        r"(?:fait|fais|a fait|fait une) (?:une )?crise\b.{0,20}(?:tremble|bave|convuls|epilep)",
        r"\b(?:spasmes|tremble de tout son corps|secousses)\b",
        r"\bbave\b.{0,30}(?:tremble|yeux|par terre)",
        r"crise (?:febrile|convulsive)",
        # severe allergy
        r"anaphyla",
        r"quincke",
        r"{_BODY_PARTS_SWELL} {_W}(?:gonfle|enfle|gonflent|enflent|gonflee|enflee|gonflees|"
        r"enflees)",
        r"(?:gonfle|enfle|gonflement|oedeme)\w* {_W}(?:du |de la |des |de |la |le |les )?"
        r"{_BODY_PARTS_SWELL}",
        r"allergi\w* {_W}(?:grave|severe|forte|violente|respir)",
        r"(?:choc|reaction) allergique",
        r"(?:piqu\w*|pique) (?:de |d |par )?(?:une |un )?(?:guepe|abeille|frelon)\b.{0,60}"
        r"(?:gonfle|enfle|respir|malaise|allergi|gorge)",
        r"epipen|adrenaline",
        # accidents and trauma
        r"accident (?:grave|de (?:la )?(?:voiture|route|moto|velo|travail|circulation|scooter))",
        r"\b(?:renverse|percute|fauche|heurte)e?s? par (?:une |un )?(?:voiture|camion|moto|bus|"
        r"vehicule|train|tram|auto|bagnole)",
        r"(?:grave|grosse|terrible|lourde|violente) chute",
        r"(?:tombe|chute|tomber)\w* (?:d un|du|de l|d une|de la|de) {_W}"
        r"(?:toit|echelle|balcon|fenetre|etage|arbre|hauteur|escalier|echafaudage|mur|cheval)",
        r"(?:coup|choc|traumatisme|tombe) {_W}(?:a la|sur la|la) tete.{0,60}"
        r"(?:vomi|saigne|inconscient|confus|dort|somnol|bizarre|connaissance)",
        r"\b(?:noyade|noye|noyee|se noie|noyer)\b",
        r"electrocut|electrise",
        r"(?:brule|brulee|brulure|brulures)\w* {_W}(?:grave|graves|gravement|au troisieme degre|"
        r"partout|sur tout le corps|etendue)",
        r"grands? brules?",
        r"\bdefenestr",
        r"fracture ouverte",
        r"(?:os|fracture) {_W}(?:sort|sortait|depasse|visible)",
        r"(?:ecrase|coince) sous",
        r"(?:ecrase|ecrasee|ecraser|coince|coincee|coincer|happe|happee|arrache|arrachee)\w* {_W}"
        r"(?:par|dans|sous) (?:une |un |la |le |les )?(?:machine|voiture|camion|tracteur|arbre|"
        r"presse|engin|porte de garage|mur|broyeur)",
        r"(?:ecrase|ecrasee|ecraser|arrache|arrachee|sectionne|coupe) (?:la|le|les|sa|son|ses|"
        r"mon|ma|mes) (?:jambe|main|bras|pied|tete|thorax|doigts|doigt)\b.{0,30}(?:machine|"
        r"par|scie|tronconneuse)",
        r"incendie|au feu\b|maison brule|(?:a|ont) pris feu|prend feu|le feu a pris",
        # general danger
        r"urgences? vitales?",
        r"(?:va|vais|allons|est en train de|suis en train de|risque de|peut) mourir",
        r"\bmourant",
        r"en train de mourir",
        r"danger de mort",
        r"pronostic vital",
        r"(?:bebe|nourrisson|nouveau ne|enfant|fils|fille|bambin)\b.{0,30}"
        r"(?:ne respire|devient bleu|tout bleu|toute bleue|ne reagit|inconscient|mou|molle)",
        r"(?:meningite|purpura)",
        r"(?:fievre|temperature) {_W}(?:bebe|nourrisson).{0,20}(?:mois|semaines)\b.{0,20}"
        r"(?:ne reagit|mou|taches)",
        r"(?:taches|boutons) {_W}(?:violet|violacees|qui ne s effacent pas)",
        r"(?:respire|respiration) {_W}(?:sifflante|bruyante).{0,30}(?:bleu|peine)",
        r"(?:douleur|mal) {_W}(?:insupportable|atroce|horrible|terrible) {_W}"
        r"(?:poitrine|ventre|tete|thorax)",
        r"(?:pire|plus violent) mal de tete de (?:ma|sa) vie",
        r"mal de tete {_W}(?:brutal|violent|soudain|foudroyant|explose)",
        r"(?:accouche|accouchement|perd les eaux|perdu les eaux|contractions)\b.{0,40}"
        r"(?:saigne|sang|bebe sort|tete sort|maintenant|voiture|seule)",
        r"\benceinte\b.{0,80}\b(?:saigne\w*|saignement\w*|perd\w* du sang|"
        r"(?<!prise de )(?<!prises de )(?<!analyse de )(?<!analyses de )sang|caillots?|"
        r"hemorragi\w*|ne sens plus le bebe|bebe ne bouge plus|perdu les eaux|perd les eaux)",
        r"\b(?:saigne\w*|saignement\w*|perd\w* du sang|caillots?|hemorragi\w*)\b.{0,80}\benceinte\b",
    ],
}

# "Le standard ne répond pas" is about a phone line, not a person: such a match does not count.
_NOT_A_PERSON = re.compile(
    r"(?:standard|telephone|numero|ligne|secretariat|accueil|centre d appel|call cent\w*|site|"
    r"mail|internet|service|hopital|ordinateur|serveur|systeme|application|appli|reseau|"
    r"repondeur|guichet|bureau|docteur|medecin|personne) (?:\w+ ){0,2}(?:(?:ne|n) )?(?:repond|reagit)"
)

_PLACEHOLDERS = {
    "{_W}": _W,
    "{_DRUGS}": _DRUGS,
    "{_HOUSEHOLD}": _HOUSEHOLD,
    "{_BODY_PARTS_SWELL}": _BODY_PARTS_SWELL,
    "{_SOMEONE_DOWN}": _SOMEONE_DOWN,
}


def _expand(pattern: str) -> str:
    """Patterns name the shared pieces as {_W}, {_DRUGS}...: written as plain raw strings, so
    that regex quantifiers such as {0,3} need no doubling."""
    for name, value in _PLACEHOLDERS.items():
        pattern = pattern.replace(name, value)
    return pattern


_COMPILED: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(_expand(p))) for kind in (SUICIDE, POISON, GENERAL) for p in PATTERNS[kind]
]


@dataclass(frozen=True)
class Danger:
    """A life-threatening situation was recognised: `kind` picks the words of the 112 answer."""

    kind: str
    pattern: str
    matched: str


def detect_danger(text: str) -> Danger | None:
    """The first danger found in `text`, suicide before poisoning before the rest."""
    norm = normalize(text)
    if not norm:
        return None
    for kind, pattern in _COMPILED:
        for m in pattern.finditer(norm):
            if _is_about_a_service(norm, m):
                continue
            return Danger(kind=kind, pattern=pattern.pattern, matched=m.group(0))
    return None


def _is_about_a_service(norm: str, match: re.Match[str]) -> bool:
    """True when the match is "X ne répond pas" with X a phone line, a desk or a system."""
    if "repond" not in match.group(0) and "reagit" not in match.group(0):
        return False
    window = norm[max(0, match.start() - 40) : match.end()]
    return bool(_NOT_A_PERSON.search(window))
