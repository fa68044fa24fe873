// The package ships no types: its default export parses the text exposition into prom2json-shaped families.
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
