/**
 * @module text/text-analysis
 * The one place free text is cut into words and words into stems, for the router and for the offline demo
 * model alike: lowercase words, a normalised form for matching (accents removed, English contractions
 * expanded, numbers folded to one token), one light English stemmer, and the stopwords of a request.
 */

/** Contractions whose expansion carries meaning for intent ("can't", "didn't": negation matters). */
const CONTRACTIONS: readonly (readonly [RegExp, string])[] = [
  [/\bcan['’]t\b/g, 'can not'],
  [/\bwon['’]t\b/g, 'will not'],
  [/n['’]t\b/g, ' not'],
  [/['’]re\b/g, ' are'],
  [/['’]m\b/g, ' am'],
  [/['’]ve\b/g, ' have'],
  [/['’]ll\b/g, ' will'],
  [/['’]d\b/g, ' would'],
  [/['’]s\b/g, ''],
];

/** Every token that holds a digit becomes this one token in `surfaceWords`: "1st", "2024" and "50" alike. */
export const NUMBER_TOKEN = '#';

const SURFACE_TOKEN = /[a-z]+|[0-9]+[a-z]*|[$£€¥%]/g;
const DIACRITICS = /[\u0300-\u036f]/g;

/** Words that carry no meaning for choosing a tool or an argument. */
const STOPWORDS = new Set(
  (
    'a about after all also am an and any are as at be been before being but by can could did do does doing ' +
    'for from get give go had has have how i if in into is it its just let like me might more most much must ' +
    'my need no not now of off on one or our out over please shall should so some than that the their them ' +
    'then there these they this those to too up us very was we were what when where which while who why will ' +
    'with would you your yours show tell see find know want look lookup check e g eg such using use via per'
  ).split(' '),
);

/**
 * Irregular forms the suffix rules cannot reach, and a few everyday synonyms of the same idea. A Map, not an
 * object: a word such as "constructor" or "toString" must not find Object.prototype's members.
 */
const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ['spent', 'spend'],
  ['paid', 'pay'],
  ['bought', 'buy'],
  ['children', 'child'],
  ['people', 'person'],
  ['growth', 'grow'],
  ['increase', 'grow'],
  ['increased', 'grow'],
  ['increases', 'grow'],
  ['increasing', 'grow'],
  ['rising', 'grow'],
]);

/** Lowercase words of `text` as written (letters and digits of any script; anything else separates). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Lowercase words normalised for matching: accents removed, contractions expanded, every number folded to
 * {@link NUMBER_TOKEN}, currency and percent signs kept as words of their own.
 */
export function surfaceWords(text: string): string[] {
  let normalised = text.toLowerCase().normalize('NFKD').replace(DIACRITICS, '');
  for (const [pattern, replacement] of CONTRACTIONS) normalised = normalised.replace(pattern, replacement);
  const found = normalised.match(SURFACE_TOKEN) ?? [];
  return found.map((word) => (word.charCodeAt(0) <= 57 && word.charCodeAt(0) >= 48 ? NUMBER_TOKEN : word));
}

/**
 * Reduces a word to a stem shared by its common inflections ("charged", "charges", "charging"; "enrolments",
 * "enrolled"). Both sides of every comparison go through it, so a stem only has to be consistent, not a word.
 */
export function stem(word: string): string {
  let w = word.toLowerCase();
  const irregular = IRREGULAR.get(w);
  if (irregular !== undefined) w = irregular;
  if (w.length <= 3 || /^\d+$/.test(w)) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(ss|us|is)$/.test(w)) {
    // "status", "class", "analysis": the final s is part of the word.
  } else if (/(s|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s')) w = w.slice(0, -1);
  if (w.endsWith('ment') && w.length > 6) w = w.slice(0, -4);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith('er') && w.length > 5) w = w.slice(0, -2);
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  // "enroll"/"enrol", "planned"/"plan": collapse a doubled final consonant.
  if (/([b-df-hj-np-tv-z])\1$/.test(w)) w = w.slice(0, -1);
  return w;
}

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word.toLowerCase());
}

/** Words of `text` without stopwords, stemmed, in order (duplicates kept). */
export function tokenize(text: string): string[] {
  return words(text)
    .filter((word) => !STOPWORDS.has(word))
    .map(stem);
}
