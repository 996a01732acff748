// Behaviour of the Dashboard: these pass before and after a correct refactor to hooks.
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, expect, test } from 'vitest';
import Dashboard from './Dashboard.jsx';

afterEach(() => {
  cleanup();
});

test('renders the title and starts at zero', () => {
  render(<Dashboard title="Sales" />);
  expect(screen.getByRole('heading').textContent).toBe('Sales');
  expect(screen.getByTestId('clicks').textContent).toBe('0');
});

test('counts clicks and resets them', () => {
  render(<Dashboard title="Sales" />);
  fireEvent.click(screen.getByText('Add'));
  fireEvent.click(screen.getByText('Add'));
  expect(screen.getByTestId('clicks').textContent).toBe('2');
  fireEvent.click(screen.getByText('Reset'));
  expect(screen.getByTestId('clicks').textContent).toBe('0');
});

test('shows the clicks in the document title', () => {
  render(<Dashboard title="Sales" />);
  expect(document.title).toBe('Sales (0)');
  fireEvent.click(screen.getByText('Add'));
  expect(document.title).toBe('Sales (1)');
});
