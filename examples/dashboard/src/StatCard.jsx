export default function StatCard({ label, value }) {
  return (
    <div className="stat-card">
      <span>{label}</span>: <strong data-testid={label}>{value}</strong>
    </div>
  );
}
