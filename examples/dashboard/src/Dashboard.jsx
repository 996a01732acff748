import React from 'react';
import StatCard from './StatCard.jsx';

export default class Dashboard extends React.Component {
  constructor(props) {
    super(props);
    this.state = { clicks: 0, seconds: 0 };
    this.handleClick = this.handleClick.bind(this);
    this.handleReset = this.handleReset.bind(this);
  }

  componentDidMount() {
    this.timer = setInterval(() => {
      this.setState((state) => ({ seconds: state.seconds + 1 }));
    }, 1000);
  }

  componentDidUpdate(prevProps, prevState) {
    if (prevState.clicks !== this.state.clicks) {
      document.title = `${this.props.title} (${this.state.clicks})`;
    }
  }

  componentWillUnmount() {
    clearInterval(this.timer);
  }

  handleClick() {
    this.setState((state) => ({ clicks: state.clicks + 1 }));
  }

  handleReset() {
    this.setState({ clicks: 0 });
  }

  render() {
    return (
      <section>
        <h1>{this.props.title}</h1>
        <StatCard label="Clicks" value={this.state.clicks} />
        <StatCard label="Uptime" value={`${this.state.seconds}s`} />
        <button onClick={this.handleClick}>Add</button>
        <button onClick={this.handleReset}>Reset</button>
      </section>
    );
  }
}
