// Small stroke icons for the navigation (decorative: the link text names each entry).

const paths = {
  chat: 'M4 5h16v10H9l-5 4z',
  cad: 'M4 20 20 4M4 4h6v6H4zM14 14h6v6h-6z',
  posters: 'M5 3h14v18H5zM8 14l3-3 3 3 2-2 3 3M9 7h.01',
  agents: 'M12 3a4 4 0 1 1 0 8 4 4 0 0 1 0-8zM4 21c0-4 4-6 8-6s8 2 8 6',
  tasks: 'M4 6h2M4 12h2M4 18h2M9 6h11M9 12h11M9 18h11',
  admin: 'M12 3l8 3v6c0 5-4 8-8 9-4-1-8-4-8-9V6z',
  settings: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2',
} as const;

export type IconName = keyof typeof paths;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d={paths[name]} fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}
