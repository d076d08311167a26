/**
 * @module routing/tokenizer
 * Turns free text into the normalised word tokens every routing feature is built from: lowercase, accents
 * removed, English contractions expanded, numbers folded to one token, a light stem per word.
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

/** Every token that holds a digit becomes this one token: "1st", "2024" and "50" all mean "a number". */
export const NUMBER_TOKEN = '#';

const TOKEN = /[a-z]+|[0-9]+[a-z]*|[$£€¥%]/g;
const DIACRITICS = /[\u0300-\u036f]/g;

/** Lowercase surface words of `text` (contractions expanded, numbers folded), before stemming. */
export function surfaceWords(text: string): string[] {
  let normalised = text.toLowerCase().normalize('NFKD').replace(DIACRITICS, '');
  for (const [pattern, replacement] of CONTRACTIONS) normalised = normalised.replace(pattern, replacement);
  const words = normalised.match(TOKEN) ?? [];
  return words.map((word) => (word.charCodeAt(0) <= 57 && word.charCodeAt(0) >= 48 ? NUMBER_TOKEN : word));
}

/**
 * A light English stemmer: strips plural, -ing, -ed and -ment endings, a final "e" and a doubled final
 * consonant, so "charged", "charges" and "charging" share "charg". Only consistency matters, not real words;
 * character n-grams cover what it misses (measured on the training splits: as good as Porter2 here).
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  if (w.endsWith('ment') && w.length > 7) w = w.slice(0, -4);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  if (w.endsWith('e') && w.length > 4) w = w.slice(0, -1);
  if (w.length > 4 && /([b-df-hj-np-rtv-z])\1$/.test(w)) w = w.slice(0, -1);
  return w;
}

/** Stemmed tokens of `text`, in order. */
export function tokenize(text: string): string[] {
  return surfaceWords(text).map(stem);
}
