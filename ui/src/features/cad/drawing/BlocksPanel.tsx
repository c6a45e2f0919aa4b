import { useI18n } from '@/i18n';
import type { Facts } from '@/lib/api';
import { blocksOf } from '../api';

/** The drawing's blocks with how often each is inserted (from the facts). */
export function BlocksPanel({ facts }: { facts: Facts | null }) {
  const { t, formatNumber } = useI18n();
  const blocks = blocksOf(facts);
  if (blocks.length === 0) return <p className="muted small">{t('cad.blocks.none')}</p>;
  return (
    <table className="table cad-blocks" data-testid="cad-blocks">
      <thead>
        <tr>
          <th scope="col">{t('cad.blocks.name')}</th>
          <th scope="col">{t('cad.blocks.inserts')}</th>
          <th scope="col">{t('cad.blocks.entities')}</th>
        </tr>
      </thead>
      <tbody>
        {blocks.map((block) => (
          <tr key={block.name}>
            <td>{block.name}</td>
            <td>{formatNumber(block.inserts)}</td>
            <td>{formatNumber(block.entities)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
