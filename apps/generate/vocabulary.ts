/**
 * What the synthetic export is made of: names, streets, the clinic's locations, practitioners and
 * appointment types, and the DST transitions appointments are placed in (the mess
 * docs/EXPORT-FORMAT.md describes).
 */
export const FIRST = [
  'Aroha',
  'James',
  'Mere',
  'Olivia',
  'Tāne',
  'Zoë',
  'Liam',
  'Charlotte',
  'Wiremu',
  'Amelia',
  'Noah',
  'Isla',
  'José',
  'Mia',
  'Hemi',
  'Sophie',
  'Ngaio',
  'Lucas',
  'Anika',
  'Renée',
];
export const LAST = [
  'Smith',
  'Ngata',
  'Williams',
  'Brown',
  'Te Whata',
  'Wilson',
  'Taylor',
  "O'Connor",
  'Anderson',
  'Thompson',
  'Walker',
  'Müller',
  'Parata',
  'Chen',
  'Patel',
  'Kim',
  'Nguyen',
  'Campbell',
  'Stewart',
  'Horomona',
];
export const STREETS = [
  'Queen St',
  'Karangahape Rd',
  'Dominion Rd',
  'Ponsonby Rd',
  'Lambton Quay',
  'George St',
];
export const SUBURBS = ['Ponsonby', 'Grey Lynn', 'Mt Eden', 'Te Aro', 'Newtown', 'Surry Hills'];
export const ALERTS = [
  'Penicillin allergy',
  'Latex allergy',
  'Pacemaker',
  'Diabetic',
  'Anticoagulants',
  'Asthma',
];

export const LOCATIONS = [
  { id: 'L1', name: 'Auckland Central', city: 'Auckland', zone: 'Pacific/Auckland', country: 'New Zealand' },
  { id: 'L2', name: 'Wellington', city: 'Wellington', zone: 'Pacific/Auckland', country: 'New Zealand' },
  { id: 'L3', name: 'Sydney CBD', city: 'Sydney', zone: 'Australia/Sydney', country: 'Australia' },
];
export const PRACTITIONERS = [
  ['P1', 'Hana', 'Ruru', 'N'],
  ['P2', 'Michael', 'Grant', 'N'],
  ['P3', 'Priya', 'Sharma', 'N'],
  ['P4', 'Tom', 'Baker', 'N'],
  ['P5', 'Ella', 'Fitzgerald', 'N'],
  ['P6', 'Robert', 'Lee', 'Y'],
] as const;
export const TYPES = [
  ['T1', 'Initial Assessment', '60', 'Physiotherapy', '#1F77B4'],
  ['T2', 'Follow-up', '30', 'Physiotherapy', '#2CA02C'],
  ['T3', 'Massage 45', '45', 'Massage', '#FF7F0E'],
  ['T4', 'ACC Review', '30', 'ACC', '#D62728'],
  ['T5', 'Pilates Class', '55', 'Classes', 'purple'],
] as const;

/** DST transitions the generator places appointments in (local date, 02:30 is in the gap or overlap). */
export const DST_DAYS = [
  { zone: 'L1', date: [2024, 9, 29], kind: 'gap' },
  { zone: 'L1', date: [2024, 4, 7], kind: 'overlap' },
  { zone: 'L3', date: [2024, 10, 6], kind: 'gap' },
  { zone: 'L3', date: [2024, 4, 7], kind: 'overlap' },
] as const;

/** Upload file names are known before the rows are generated, so they derive from the index. */
export function uploadName(i: number): string {
  return `upload-${i}.${['jpg', 'pdf', 'png'][i % 3]}`;
}
