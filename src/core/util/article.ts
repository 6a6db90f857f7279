// "a" or "an" before a word, by how it sounds: formats and frameworks are often initialisms
// (ONNX, MXNet, XGBoost, GGUF), which are read letter by letter or start with a letter's name.

/** Letters whose names start with a vowel sound: "an F", "an MX…", "an S…". */
const VOWEL_SOUND_LETTERS = new Set('AEFHILMNORSX');

/** Words that start with a vowel letter but a consonant sound ("a unit", "a one-off"), and the reverse ("an hour"). */
const CONSONANT_SOUND = /^(uni|use|usu|ura|ure|uti|eu|ewe|one\b|once)/i;
const SILENT_H = /^(hour|honest|honou?r|heir)/i;

/** The indefinite article for `word`: `article('ONNX')` is 'an', `article('PyTorch')` is 'a'. */
export function article(word: string): 'a' | 'an' {
  const w = word.trim();
  if (!w) return 'a';
  // Two capitals at the start (ONNX, MXNet, GGUF, HDF5): read as letters, so the first letter's name counts.
  if (/^[A-Z][A-Z0-9]/.test(w)) return VOWEL_SOUND_LETTERS.has(w[0]) ? 'an' : 'a';
  if (SILENT_H.test(w)) return 'an';
  if (CONSONANT_SOUND.test(w)) return 'a';
  return /^[aeiou]/i.test(w) ? 'an' : 'a';
}

/** `word` with its article: "an ONNX", "a PyTorch". */
export function withArticle(word: string): string {
  return `${article(word)} ${word}`;
}
